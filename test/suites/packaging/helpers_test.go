package packaging

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// release and namespace are what the docs tell users to install as.
const (
	release   = "sluice"
	namespace = "sluice-system"
)

// root is the repository root.
func root(t testing.TB) string {
	t.Helper()
	dir, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// chartDir is charts/sluice.
func chartDir(t testing.TB) string {
	return filepath.Join(root(t), "charts", "sluice")
}

// helmBinary returns the helm hack/tools.sh built, or fails the test saying
// how to build it.
func helmBinary(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(root(t), "hack", "tools.sh"), "path", "helm").Output()
	if err != nil {
		t.Fatalf("ask hack/tools.sh where helm is: %v", err)
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("helm is missing (%s): run `make tools` (or `hack/tools.sh helm`) to build it", path)
	}
	return path
}

// runHelm runs helm with args from the repository root and returns stdout,
// or stdout and stderr in the error.
func runHelm(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Dir = root(t)
	// helm keeps its caches and config under HOME; keep it away from the user's.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config",
		"HELM_DATA_HOME="+home+"/data")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// render runs `helm template` on the chart with the given extra arguments
// (--set ..., --include-crds) and decodes what it prints.
func render(t testing.TB, args ...string) []*unstructured.Unstructured {
	t.Helper()
	base := []string{"template", release, "charts/sluice", "--namespace", namespace}
	out, err := runHelm(t, append(base, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode([]byte(out))
	if err != nil {
		t.Fatalf("decode helm template output: %v", err)
	}
	return objs
}

// decode splits a multi-document YAML stream into objects, skipping empty
// documents.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("%w in\n%s", err, doc)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the one object of kind, namespace and name, failing the test
// when there is none.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == ns && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s/%s among the rendered objects: %v", kind, ns, name, ids(objs))
	return nil
}

// ofKind returns the objects of one kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// ids lists objects as kind/namespace/name, for messages and comparisons.
func ids(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
	}
	return out
}

// typed converts an object to a typed one.
func typed[T any](t testing.TB, o *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &out); err != nil {
		t.Fatalf("convert %s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return &out
}

// envtest is one API server shared by the package's tests, started on first
// use and stopped by TestMain.
var envtest struct {
	once sync.Once
	env  *apiserver.Env
	err  error
}

// apiServer returns the shared envtest API server (with Sluice's CRDs).
func apiServer(t testing.TB) *apiserver.Env {
	t.Helper()
	envtest.once.Do(func() { envtest.env, envtest.err = apiserver.Start() })
	if envtest.err != nil {
		t.Fatalf("start the API server: %v", envtest.err)
	}
	return envtest.env
}

func TestMain(m *testing.M) {
	code := m.Run()
	if manager.path != "" {
		_ = os.RemoveAll(filepath.Dir(manager.path))
	}
	if envtest.env != nil {
		if err := envtest.env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the API server: %v\n", err)
		}
	}
	os.Exit(code)
}
