package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RunPlugin runs a plugin written in Node.js. The engine sends policy packs here (kind "analyzer")
// when a language host named `nodejs` is installed, instead of launching `pulumi-analyzer-policy`.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	info := req.GetInfo()
	pluginDir := programDirectory(info, req.GetPwd())
	opts := readRuntimeOptions(info)

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	env := append(append([]string{}, req.GetEnv()...), opts.env()...)

	var cmd *exec.Cmd
	var exitErr error
	if req.GetKind() == "analyzer" {
		cmd, exitErr = h.runPolicyPack(ctx, req, pluginDir, opts, env, stdout, stderr)
	} else {
		script, err := resolveScript(pluginDir, "run-plugin")
		if err != nil {
			_ = closer.Close()
			return err
		}
		args := append(append([]string{}, opts.nodeargs...), script, pluginDir)
		args = append(args, req.GetArgs()...)
		cmd = exec.CommandContext(ctx, "node", args...)
		cmd.Dir = pluginDir
		cmd.Env = env
		cmd.Stdout = stdout
		cmd.Stderr = stderr
		exitErr = cmd.Run()
	}
	// Flush the output streams before the exit code: the engine stops reading at the exit code.
	if err := closer.Close(); err != nil {
		return err
	}
	if cmd == nil || cmd.ProcessState == nil {
		if exitErr == nil {
			exitErr = errors.New("the plugin did not start")
		}
		return exitErr
	}
	return server.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(cmd.ProcessState.ExitCode())},
	})
}

// runPolicyPack runs `@pulumi/pulumi/cmd/run-policy-pack` from the pack's own node_modules, in the
// pack's directory. Policy packs built on @pulumi/policy read the stack's config, name and project
// from the environment (PULUMI_CONFIG, PULUMI_NODEJS_STACK, ...), which the engine now sends over
// gRPC (ConfigureStack): Pulumi's policy proxy answers the engine first, and the pack is started
// with that configuration in its environment, then attached behind the proxy.
func (h *languageHost) runPolicyPack(
	ctx context.Context, req *pulumirpc.RunPluginRequest, packDir string, opts runtimeOptions, env []string, stdout, stderr io.Writer,
) (*exec.Cmd, error) {
	script, err := resolveScript(packDir, "run-policy-pack")
	if err != nil {
		return nil, err
	}
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return nil, fmt.Errorf("starting the policy proxy: %w", err)
	}
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the policy pack's stack configuration: %w", err)
	}
	if stack != nil {
		config, err := configEnv(stack.GetConfig(), stack.GetConfigSecretKeys())
		if err != nil {
			return nil, err
		}
		env = append(env, config...)
		env = append(env,
			"PULUMI_NODEJS_STACK="+stack.GetStack(),
			"PULUMI_NODEJS_PROJECT="+stack.GetProject(),
			"PULUMI_NODEJS_ORGANIZATION="+stack.GetOrganization(),
			"PULUMI_NODEJS_DRY_RUN="+strconv.FormatBool(stack.GetDryRun()),
		)
	}
	// run-policy-pack takes <engine address> <pack directory>; the engine's args end with its address.
	args := append(append([]string{}, opts.nodeargs...), script)
	args = append(args, req.GetArgs()...)
	args = append(args, packDir)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = packDir
	cmd.Env = env
	cmd.Stdout = packStdout
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node for the policy pack: %w", err)
	}
	return cmd, proxy.Attach(ctx, cmd)
}
