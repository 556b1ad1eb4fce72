package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// binaries are the paths of the programs a cluster runs.
type binaries struct {
	etcd, apiserver, controllerManager, scheduler, kwok string
}

// findBinaries locates the programs: etcd and kube-apiserver in
// $KUBEBUILDER_ASSETS when it is set (as `make test` does), everything else,
// and those two otherwise, where `hack/tools.sh path NAME` says the cache holds
// them.
func findBinaries() (binaries, error) {
	root, err := repoRoot()
	if err != nil {
		return binaries{}, err
	}
	var b binaries
	lookups := []struct {
		name string
		path *string
	}{
		{"etcd", &b.etcd},
		{"kube-apiserver", &b.apiserver},
		{"kube-controller-manager", &b.controllerManager},
		{"kube-scheduler", &b.scheduler},
		{"kwok", &b.kwok},
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	for _, l := range lookups {
		if assets != "" && (l.name == "etcd" || l.name == "kube-apiserver") {
			*l.path = filepath.Join(assets, l.name)
		} else if *l.path, err = cachedPath(root, l.name); err != nil {
			return binaries{}, err
		}
		if err := checkExecutable(*l.path); err != nil {
			return binaries{}, fmt.Errorf("%s %s: %w: run `make tools` (or `hack/tools.sh cluster`) to build it", l.name, *l.path, err)
		}
	}
	return b, nil
}

// cachedPath asks hack/tools.sh where its cache keeps the binary name.
func cachedPath(root, name string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(root, "hack", "tools.sh"), "path", name)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ask hack/tools.sh where %s is: %w: %s; run `make tools` to build the cluster's binaries",
			name, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// checkExecutable reports whether path is a file that can be run.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return errors.New("missing")
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// DefaultCRDs lists the CRDs a cluster for Sluice needs: Sluice's own
// (config/crd/bases), Istio's, and the standard Gateway API kinds the Gateway
// API router writes. The third-party ones are read from the Go module cache
// at the versions go.mod pins. test/framework/apiserver installs the same
// into envtest.
func DefaultCRDs() ([]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	istio, err := moduleDir(root, "istio.io/api")
	if err != nil {
		return nil, err
	}
	gateway, err := gatewayAPICRDs(root, routerKinds)
	if err != nil {
		return nil, err
	}
	paths := []string{
		filepath.Join(root, "config", "crd", "bases"),
		filepath.Join(istio, "kubernetes", "customresourcedefinitions.gen.yaml"),
	}
	return append(paths, gateway...), nil
}

// SluiceCRDs is the directory of Sluice's own CRDs (config/crd/bases): with
// GatewayAPICRDs, what a cluster needs when it routes through the Gateway API
// only (Istio's CRDs are large and slow to install).
func SluiceCRDs() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "config", "crd", "bases"), nil
}

// GatewayAPICRDs lists the standard Gateway API CRDs that the Gateway API
// router writes (GatewayClass, Gateway, HTTPRoute, ReferenceGrant) and that
// an implementation such as Traefik watches besides (GRPCRoute,
// BackendTLSPolicy), from the module go.mod pins.
func GatewayAPICRDs() ([]string, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	return gatewayAPICRDs(root, append(slices.Clone(routerKinds), "grpcroutes", "backendtlspolicies"))
}

// routerKinds are the Gateway API kinds the Gateway API router writes.
var routerKinds = []string{"gatewayclasses", "gateways", "httproutes", "referencegrants"}

// gatewayAPICRDs lists the standard CRD files of the given kinds (plural
// resource names).
func gatewayAPICRDs(root string, kinds []string) ([]string, error) {
	gateway, err := moduleDir(root, "sigs.k8s.io/gateway-api")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, kind := range kinds {
		paths = append(paths, filepath.Join(gateway, "config", "crd", "standard", "gateway.networking.k8s.io_"+kind+".yaml"))
	}
	return paths, nil
}

// moduleDir returns where the Go module cache holds a module of go.mod,
// downloading it when needed.
func moduleDir(root, module string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locate module %s: %w: %s", module, err, stderr.String())
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("locate module %s: go mod download printed no directory: %s", module, out)
	}
	return info.Dir, nil
}

// repoRoot is the directory of Sluice's go.mod, found from this file's path
// as apiserver.RepoRoot does; importing test/framework/apiserver would build
// the operator into every user of this package.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locate the repository: no caller information")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}
