// Preloaded (`node --require`) into processes that must stay offline: any outbound connection
// other than to a local socket throws, so a test sees the attempt instead of a silent success.
"use strict";
const net = require("net");
const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const options = typeof args[0] === "object" && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
  if (options && options.path) return original.apply(this, args);
  throw new Error(`network access refused in an offline tool: ${options.host || "localhost"}:${options.port}`);
};
