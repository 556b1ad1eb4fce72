package gitops

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite config/argocd/argocd-cm.yaml from the .lua files")

// argoDir holds the Lua scripts and the ConfigMap that ships them.
var argoDir = filepath.Join("..", "..", "..", "config", "argocd")

// commands are the Argo CD actions, one per Sluice command.
var commands = []string{"promote", "promote-full", "abort", "pause", "resume", "retry"}

// kinds are Sluice's kinds with their health scripts.
var kinds = map[string]string{"Canary": "canary-health.lua", "BlueGreen": "bluegreen-health.lua"}

// actionsConfig is the value of resource.customizations.actions.<group>_<kind>.
type actionsConfig struct {
	DiscoveryLua string             `json:"discovery.lua"`
	Definitions  []actionDefinition `json:"definitions"`
}

type actionDefinition struct {
	Name      string `json:"name"`
	ActionLua string `json:"action.lua"`
}

func readScript(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(argoDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// renderConfigMap builds the argocd-cm patch from the .lua files.
func renderConfigMap(t *testing.T) []byte {
	t.Helper()
	cm := corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: "argocd",
			Labels: map[string]string{"app.kubernetes.io/part-of": "argocd"}},
		Data: map[string]string{},
	}
	for kind, health := range kinds {
		cm.Data["resource.customizations.health.rollouts.sluice.dev_"+kind] = readScript(t, health)
		actions := actionsConfig{DiscoveryLua: readScript(t, "discovery.lua")}
		for _, c := range commands {
			actions.Definitions = append(actions.Definitions,
				actionDefinition{Name: c, ActionLua: readScript(t, "action-"+c+".lua")})
		}
		raw, err := yaml.Marshal(actions)
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["resource.customizations.actions.rollouts.sluice.dev_"+kind] = string(raw)
	}
	raw, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	header := "# Generated from the .lua files next to it by `go test ./test/suites/gitops -update`; do not edit.\n" +
		"# Merge it into Argo CD's argocd-cm (see docs/gitops.md).\n"
	return append([]byte(header), raw...)
}

// shipped is the ConfigMap as committed.
func shipped(t *testing.T) corev1.ConfigMap {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(argoDir, "argocd-cm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(raw, &cm); err != nil {
		t.Fatal(err)
	}
	return cm
}

// healthScript is the health check of kind as the ConfigMap ships it.
func healthScript(t *testing.T, kind string) string {
	t.Helper()
	s, ok := shipped(t).Data["resource.customizations.health.rollouts.sluice.dev_"+kind]
	if !ok {
		t.Fatalf("argocd-cm.yaml has no health check for %s", kind)
	}
	return s
}

// actionScripts are the discovery and action scripts of kind as the
// ConfigMap ships them.
func actionScripts(t *testing.T, kind string) actionsConfig {
	t.Helper()
	var a actionsConfig
	if err := yaml.UnmarshalStrict([]byte(shipped(t).Data["resource.customizations.actions.rollouts.sluice.dev_"+kind]), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestArgoCDConfigMapShipsTheLuaFilesUnchanged(t *testing.T) {
	want := renderConfigMap(t)
	path := filepath.Join(argoDir, "argocd-cm.yaml")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s is out of date with the .lua files; run go test ./test/suites/gitops -update", path)
	}
	cm := shipped(t)
	if len(cm.Data) != 2*len(kinds) {
		t.Fatalf("argocd-cm.yaml has %d keys, want a health check and actions for each of %d kinds", len(cm.Data), len(kinds))
	}
	for kind := range kinds {
		if got := actionScripts(t, kind); len(got.Definitions) != len(commands) {
			t.Fatalf("%s has %d actions, want %d", kind, len(got.Definitions), len(commands))
		}
	}
}
