package sandbox

import (
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-dev/sluice/test/framework/apiserver"
)

// TestEveryManifestRefersToAPresetTheSandboxInstalls decodes the presets
// the sandbox applies and checks that each demo release object's templates
// are among them: a renamed preset fails here, not minutes into a run.
func TestEveryManifestRefersToAPresetTheSandboxInstalls(t *testing.T) {
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "config", "presets")
	files, err := presetFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	presets := map[string]bool{}
	for _, f := range files {
		objs, err := decodeFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range objs {
			if u.GetKind() != "ClusterAnalysisTemplate" {
				t.Errorf("%s holds a %s; the presets are ClusterAnalysisTemplates", f, u.GetKind())
			}
			presets[u.GetName()] = true
		}
	}
	for _, want := range []string{"istio", "linkerd", "traefik"} {
		if !presets[want] {
			t.Errorf("config/presets does not ship %q (it ships %v)", want, presets)
		}
	}
	for _, sc := range Scenarios {
		objs, err := render(sc.Manifest, map[string]string{"Namespace": Namespace, "Image": "demo/x:v1",
			"Prometheus": "http://127.0.0.1:9090", "Tester": "http://127.0.0.1:8080",
			"GatewayNamespace": "traefik", "GatewayName": "sluice"})
		if err != nil {
			t.Fatal(err)
		}
		refs := 0
		for _, u := range objs {
			for _, field := range []string{"analysis", "prePromotionAnalysis", "postPromotionAnalysis"} {
				name, found, _ := unstructured.NestedString(u.Object, "spec", field, "templateRef", "name")
				if !found {
					continue
				}
				refs++
				if !presets[name] {
					t.Errorf("%s: %s %s refers to template %q, which config/presets does not ship", sc.Manifest, u.GetKind(), field, name)
				}
			}
		}
		if refs == 0 {
			t.Errorf("%s refers to no preset", sc.Manifest)
		}
	}
}

func TestPresetFilesNeedAKustomizationThatListsThem(t *testing.T) {
	dir := t.TempDir()
	if _, err := presetFiles(dir); err == nil || !strings.Contains(err.Error(), "kustomization") {
		t.Errorf("a folder without kustomization.yaml: error %v", err)
	}
}
