/** The `pulumi-resource-random` plugin's entry point: serves the local random provider over gRPC. */
import { main } from "@pulumi/pulumi/provider";
import { randomProvider } from "./provider";

void main(randomProvider(), process.argv.slice(2));
