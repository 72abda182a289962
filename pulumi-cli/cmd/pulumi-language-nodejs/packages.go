package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// packageJSON is the part of a package.json this host reads.
type packageJSON struct {
	Name                 string            `json:"name"`
	Version              string            `json:"version"`
	Dependencies         map[string]string `json:"dependencies"`
	DevDependencies      map[string]string `json:"devDependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
	Pulumi               struct {
		// Resource marks a package that drives a resource plugin (provider), as @pulumi/gcp does.
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackageJSON(dir string) (*packageJSON, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	var pkg packageJSON
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	return &pkg, nil
}

// resolvePackage finds an installed package as Node's require would from dir.
func resolvePackage(dir, name string) (string, bool) {
	for current := dir; ; current = filepath.Dir(current) {
		candidate := filepath.Join(current, "node_modules", filepath.FromSlash(name))
		if _, err := os.Stat(filepath.Join(candidate, "package.json")); err == nil {
			return candidate, true
		}
		if filepath.Dir(current) == current {
			return "", false
		}
	}
}

// installedPackage is one package reachable from the program's package.json.
type installedPackage struct {
	dir string
	pkg *packageJSON
}

// reachablePackages walks the installed dependency graph from the program's package.json: its
// dependencies, devDependencies and optionalDependencies, then each package's dependencies and
// optionalDependencies. A declared dependency (`dependencies`) that is not installed is reported;
// a devDependency or an optional one may be absent (`npm ci --omit=dev` installs what runs).
func reachablePackages(programDir string) ([]installedPackage, []string, error) {
	root, err := readPackageJSON(programDir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the program's package.json: %w", err)
	}
	var found []installedPackage
	var missing []string
	seen := map[string]bool{}
	type pending struct {
		from, name string
		required   bool
	}
	queue := []pending{}
	for i, deps := range []map[string]string{root.Dependencies, root.DevDependencies, root.OptionalDependencies} {
		for name := range deps {
			queue = append(queue, pending{programDir, name, i == 0})
		}
	}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		dir, ok := resolvePackage(next.from, next.name)
		if !ok {
			if next.required {
				missing = append(missing, next.name)
			}
			continue
		}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		pkg, err := readPackageJSON(dir)
		if err != nil {
			continue
		}
		found = append(found, installedPackage{dir, pkg})
		for _, deps := range []map[string]string{pkg.Dependencies, pkg.OptionalDependencies} {
			for name := range deps {
				queue = append(queue, pending{dir, name, false})
			}
		}
	}
	sort.Strings(missing)
	return found, missing, nil
}

// resourcePlugins are the providers the program's packages drive, as the engine must load them.
func resourcePlugins(programDir string) ([]*pulumirpc.PackageDependency, error) {
	packages, missing, err := reachablePackages(programDir)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("dependencies of %s are not installed (%s); run `npm ci` there",
			programDir, strings.Join(missing, ", "))
	}
	byName := map[string]*pulumirpc.PackageDependency{}
	for _, p := range packages {
		if !p.pkg.Pulumi.Resource {
			continue
		}
		name := p.pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(p.pkg.Name, "@pulumi/")
		}
		pluginVersion := p.pkg.Pulumi.Version
		if pluginVersion == "" {
			pluginVersion = p.pkg.Version
		}
		byName[name+"@"+pluginVersion] = &pulumirpc.PackageDependency{
			Name:    name,
			Kind:    "resource",
			Version: pluginVersion,
			Server:  p.pkg.Pulumi.Server,
		}
	}
	keys := make([]string, 0, len(byName))
	for k := range byName {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	deps := make([]*pulumirpc.PackageDependency, 0, len(keys))
	for _, k := range keys {
		deps = append(deps, byName[k])
	}
	return deps, nil
}

func (h *languageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := resourcePlugins(programDirectory(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

// GetRequiredPlugins is the older form of GetRequiredPackages, still called by some engine paths.
func (h *languageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest, //nolint:staticcheck // the engine still sends it
) (*pulumirpc.GetRequiredPluginsResponse, error) { //nolint:staticcheck
	deps, err := resourcePlugins(programDirectory(req.GetInfo(), req.GetPwd()))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(deps))
	for _, d := range deps {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: d.Name, Kind: d.Kind, Version: d.Version, Server: d.Server})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil //nolint:staticcheck
}

// GetProgramDependencies lists the program's direct dependencies at their installed versions.
func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	programDir := programDirectory(req.GetInfo(), req.GetPwd())
	root, err := readPackageJSON(programDir)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for name := range root.Dependencies {
		names = append(names, name)
	}
	if req.GetTransitiveDependencies() {
		for name := range root.DevDependencies {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	deps := []*pulumirpc.DependencyInfo{}
	for _, name := range names {
		installed := "not installed"
		if dir, ok := resolvePackage(programDir, name); ok {
			if pkg, err := readPackageJSON(dir); err == nil {
				installed = pkg.Version
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: installed})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "wallet-executor-stack pulumi-language-nodejs " + hostVersion()},
	}, nil
}

// InstallDependencies installs from the lockfile (`npm ci`) when node_modules is missing; an
// existing node_modules is left alone (the engine calls this before some commands, and reinstalling
// a working tree behind an operator's back would be a surprise).
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := programDirectory(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // older engines send Directory
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		_, _ = fmt.Fprintf(stdout, "node_modules is present in %s: nothing installed (run `npm ci` there to reinstall)\n", dir)
		return nil
	}
	opts := readRuntimeOptions(req.GetInfo())
	if opts.packageMgr != "npm" {
		return fmt.Errorf("runtime option packagemanager %q is not supported by this host; allowed: npm", opts.packageMgr)
	}
	args := []string{"install", "--no-audit", "--no-fund"}
	if _, err := os.Stat(filepath.Join(dir, "package-lock.json")); err == nil {
		args[0] = "ci"
	}
	_, _ = fmt.Fprintf(stdout, "npm %s in %s\n", strings.Join(args, " "), dir)
	return runInto(server.Context(), dir, stdout, stderr, "npm", args...)
}

func runInto(ctx context.Context, dir string, stdout, stderr io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s in %s: %w", name, strings.Join(args, " "), dir, err)
	}
	return nil
}
