/**
 * Entry point of the Pulumi program: the stack is defined in `program.ts`, its outputs exported
 * here as the stack's outputs.
 */
import { defineStack } from "./program";

export = defineStack();
