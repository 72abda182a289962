/**
 * Entry point of the Pulumi program: the stack is defined in `stack/program.ts`, its outputs exported
 * here as the stack's outputs.
 */
import { defineStack } from "./stack/program";

export = defineStack();
