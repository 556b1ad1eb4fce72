package apiserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/sluice-dev/sluice/internal/operator"
	"github.com/sluice-dev/sluice/test/framework/cluster"
	"github.com/sluice-dev/sluice/test/framework/deadline"
)

// Env is a running control plane.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is a client on Config with Scheme.
	Client client.Client
	// Scheme knows every kind Sluice reads or writes.
	Scheme *k8sruntime.Scheme

	env *envtest.Environment
}

// NewScheme returns the operator's scheme plus the Gateway API, which tests
// write routes of.
func NewScheme() *k8sruntime.Scheme {
	s := operator.NewScheme()
	utilruntime.Must(gatewayv1.Install(s))
	return s
}

// Start starts etcd and kube-apiserver and installs the CRDs. The binaries
// come from KUBEBUILDER_ASSETS, or from the cache hack/tools.sh fills; when
// they are missing Start fails and says how to build them.
func Start() (*Env, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	crds, err := cluster.DefaultCRDs()
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	// envtest gives each process 20 s to start and the CRDs 10 s to be
	// served: on a loaded 2-core machine kube-apiserver alone can take
	// longer. These deadlines bound a hang; they stretch with the load.
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: deadline.Scale(time.Minute),
		ControlPlaneStopTimeout:  deadline.Scale(20 * time.Second),
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              crds,
			ErrorIfPathMissing: true,
			Scheme:             scheme,
			MaxTime:            deadline.Scale(30 * time.Second),
		},
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest with the binaries in %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("create client: %w", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, env: env}, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	return e.env.Stop()
}

// RepoRoot is the directory of Sluice's go.mod.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("locate the repository: no caller information")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// assetsDir finds etcd and kube-apiserver.
func assetsDir(root string) (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		out, err := exec.Command(filepath.Join(root, "hack", "tools.sh"), "path", "assets").Output()
		if err != nil {
			return "", fmt.Errorf("ask hack/tools.sh for the envtest binaries: %w", err)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, bin := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("%s is missing from %s: run `make tools` (or `hack/tools.sh envtest`) to build it", bin, dir)
		}
	}
	return dir, nil
}
