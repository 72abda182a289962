// Command pulumi-language-nodejs is this project's own Node.js language host for the Pulumi engine.
//
// Pulumi's own host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is not
// served by the Go module proxy these machines can reach, so the project builds this one instead. It
// speaks the engine's LanguageRuntime gRPC protocol (the stubs of github.com/pulumi/pulumi/sdk/v3) and
// does only what this project needs: report the resource plugins in node_modules, run the program
// through @pulumi/pulumi's own `cmd/run`, and run Node.js policy packs and plugins through
// `cmd/run-policy-pack` and `cmd/run-plugin`. Everything the program sees (flags, PULUMI_* variables)
// is what @pulumi/pulumi's scripts read; see docs/design/engine.md.
//
// Usage (by the engine): pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL] <engine address>
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	sdkversion "github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// targetVersion is the Pulumi release whose protocol and @pulumi/pulumi scripts this host was written
// against. The build sets the SDK's version variable (the same -X flag as for the CLI), which wins.
const targetVersion = "3.248.0"

func hostVersion() string {
	if v := strings.TrimPrefix(sdkversion.Version, "v"); v != "" {
		return v
	}
	return targetVersion
}

// exitCodeAlreadyReported is what @pulumi/pulumi's run scripts exit with when they have already
// reported the error to the engine: the engine must then not print a second, generic one.
const exitCodeAlreadyReported = 32

func main() {
	flags := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	// Flags the engine passes to every plugin; accepted so parsing never fails, otherwise unused.
	flags.Bool("logtostderr", false, "log to stderr (ignored)")
	flags.Int("v", 0, "log verbosity (ignored)")
	tracing := flags.String("tracing", "", "a Zipkin-compatible endpoint, passed on to the program")
	flags.String("root", "", "program root (ignored; the engine sends ProgramInfo)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	engineAddress := ""
	if flags.NArg() > 0 {
		engineAddress = flags.Arg(flags.NArg() - 1)
	}

	host := &languageHost{engineAddress: engineAddress, tracing: *tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads exactly one line from stdout: the port.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// languageHost implements the engine's LanguageRuntime service for Node.js programs.
type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is sent when the engine attaches to a running host; it carries the engine's address.
func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: hostVersion()}, nil
}

// Cancel: a running program is stopped through its request's context when the engine gives up.
func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// runtimeOptions are the `runtime.options` of Pulumi.yaml (or PulumiPolicy.yaml) this host reads.
type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
	packageMgr string
}

func readRuntimeOptions(info *pulumirpc.ProgramInfo) runtimeOptions {
	// TypeScript is on unless a project turns it off, as in Pulumi's own host.
	opts := runtimeOptions{typescript: true, packageMgr: "npm"}
	fields := info.GetOptions().GetFields()
	if v, ok := fields["typescript"]; ok {
		opts.typescript = v.GetBoolValue()
	}
	if v, ok := fields["tsconfig"]; ok {
		opts.tsconfig = v.GetStringValue()
	}
	if v, ok := fields["nodeargs"]; ok {
		opts.nodeargs = strings.Fields(v.GetStringValue())
	}
	if v, ok := fields["packagemanager"]; ok && v.GetStringValue() != "" {
		opts.packageMgr = v.GetStringValue()
	}
	return opts
}

// env returns the variables @pulumi/pulumi's run scripts read for these options.
func (o runtimeOptions) env() []string {
	env := []string{"PULUMI_NODEJS_TYPESCRIPT=" + strconv.FormatBool(o.typescript)}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// programDirectory is where the program's package.json lives.
func programDirectory(info *pulumirpc.ProgramInfo, fallback string) string {
	if dir := info.GetProgramDirectory(); dir != "" {
		return dir
	}
	return fallback
}

// resolveScript finds @pulumi/pulumi/cmd/<name> as Node would from dir: in the nearest node_modules
// that has it, walking up (hoisted installs and workspaces).
func resolveScript(dir, name string) (string, error) {
	for current := dir; ; current = filepath.Dir(current) {
		candidate := filepath.Join(current, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(current) == current {
			return "", fmt.Errorf("@pulumi/pulumi/cmd/%s is not installed in or above %s; run `npm ci` there", name, dir)
		}
	}
}

// configEnv is the stack configuration as @pulumi/pulumi's runtime reads it.
func configEnv(config map[string]string, secretKeys []string) ([]string, error) {
	if config == nil {
		config = map[string]string{}
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	keysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return []string{"PULUMI_CONFIG=" + string(configJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(keysJSON)}, nil
}

// Run runs the program once: `node [nodeargs] @pulumi/pulumi/cmd/run <flags> <entry point> [args]`.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	pwd := req.GetPwd()
	programDir := programDirectory(info, pwd)
	if pwd == "" {
		pwd = programDir
	}
	entryPoint := info.GetEntryPoint()
	if entryPoint == "" {
		entryPoint = req.GetProgram()
	}
	if entryPoint == "" {
		entryPoint = "."
	}
	// cmd/run resolves a relative entry point against --pwd: keep "." (package.json's main) as is.
	program := entryPoint
	if entryPoint != "." && !filepath.IsAbs(entryPoint) && filepath.Clean(programDir) != filepath.Clean(pwd) {
		program = filepath.Join(programDir, entryPoint)
	}

	runScript, err := resolveScript(programDir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := readRuntimeOptions(info)

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--organization", req.GetOrganization(),
		"--pwd", pwd,
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	)
	if root := info.GetRootDirectory(); root != "" {
		args = append(args, "--root-directory", root)
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if h.tracing != "" {
		args = append(args, "--tracing", h.tracing)
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	config, err := configEnv(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = pwd
	cmd.Env = append(append(os.Environ(), config...), opts.env()...)
	// The engine shows the host's own stdout and stderr as the program's diagnostics.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitCodeAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			if exitErr.ExitCode() < 0 {
				return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Node.js program was stopped: %v", exitErr)}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("the Node.js program exited with code %d", exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}
