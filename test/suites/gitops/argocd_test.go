package gitops

import (
	"regexp"
	"slices"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

func allStates(t *testing.T) []state {
	t.Helper()
	return append(canaryStates(t), blueGreenStates(t)...)
}

func TestArgoCDHealthReadsEveryState(t *testing.T) {
	for _, s := range allStates(t) {
		t.Run(s.name, func(t *testing.T) {
			u := toUnstructured(t, s.obj)
			hs := runLua(t, healthScript(t, u.GetKind()), u)
			status, msg := hs.RawGetString("status"), hs.RawGetString("message")
			if status.String() != s.argo || msg.String() != s.argoMessage {
				t.Fatalf("health is %s %q, want %s %q", status, msg, s.argo, s.argoMessage)
			}
		})
	}
}

// commandID is what the actions write: a timestamp to the second, so that
// the same command sent again later is a new command.
var commandID = regexp.MustCompile(`^argocd-[0-9]{8}T[0-9]{6}Z$`)

func TestArgoCDActionsSetTheCommandAnnotationsAndNothingElse(t *testing.T) {
	for _, s := range allStates(t) {
		u := toUnstructured(t, s.obj)
		for _, def := range actionScripts(t, u.GetKind()).Definitions {
			t.Run(s.name+"/"+def.Name, func(t *testing.T) {
				got, ok := fromLua(runLua(t, def.ActionLua, u)).(map[string]any)
				if !ok {
					t.Fatal("the action did not return an object")
				}
				meta, _ := got["metadata"].(map[string]any)
				ann, _ := meta["annotations"].(map[string]any)
				key := v1alpha1.CommandAnnotation(v1alpha1.Command(def.Name))
				if id, _ := ann[key].(string); !commandID.MatchString(id) {
					t.Fatalf("annotation %s is %q, want a fresh id", key, id)
				}
				if by, ok := ann[v1alpha1.CommandByAnnotation(v1alpha1.Command(def.Name))]; ok {
					t.Fatalf("a stale .by annotation stays: %v", by)
				}
				delete(ann, key)
				if len(ann) == 0 && u.GetAnnotations() == nil {
					delete(meta, "annotations")
				}
				if want := dropNulls(normalized(t, u.Object)); !equality.Semantic.DeepEqual(got, want) {
					t.Fatalf("the action changed more than the annotations:\ngot  %v\nwant %v", got, want)
				}
			})
		}
	}
}

func TestArgoCDDiscoveryOffersEveryCommandSluiceWouldApply(t *testing.T) {
	for _, s := range allStates(t) {
		t.Run(s.name, func(t *testing.T) {
			u := toUnstructured(t, s.obj)
			out := runLua(t, actionScripts(t, u.GetKind()).DiscoveryLua, u)
			enabled := []string{}
			for _, c := range commands {
				a, ok := out.RawGetString(c).(*lua.LTable)
				if !ok {
					t.Fatalf("discovery does not list %s", c)
				}
				if a.RawGetString("disabled") == lua.LFalse {
					enabled = append(enabled, c)
				}
				if s.applies != nil && s.applies(v1alpha1.Command(c)) && !slices.Contains(enabled, c) {
					t.Errorf("discovery disables %s, which Sluice would carry out", c)
				}
			}
			if want := append([]string{}, s.enabled...); !slices.Equal(enabled, want) {
				t.Fatalf("discovery enables %v, want %v", enabled, s.enabled)
			}
		})
	}
}

// dropNulls removes null members, which a Lua table cannot hold.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}
