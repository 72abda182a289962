/** The `pulumi-resource-gcp` plugin's entry point: serves the local gcp provider over gRPC. */
import { main } from "@pulumi/pulumi/provider";
import { gcpProvider } from "./provider";

void main(gcpProvider(), process.argv.slice(2));
