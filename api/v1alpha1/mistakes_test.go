package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// mistake is one plausible error in testdata/mistakes.yaml: a JSON merge
// patch (RFC 7386: objects merge, lists and values replace, null deletes)
// on one of the samples, and what the API server's refusal must say.
type mistake struct {
	Name   string         `json:"name"`
	Kind   string         `json:"kind"`
	Patch  map[string]any `json:"patch"`
	Expect []string       `json:"expect"`
	Absent []string       `json:"absent,omitempty"`
}

// sampleFiles are the objects the mistakes start from, by kind: the samples
// as they were before the presets, every analysis field written out, so that
// a mistake in any of them can be made (config/samples now refer to a
// template).
var sampleFiles = map[string]string{
	"Canary":    "canary_full.yaml",
	"BlueGreen": "bluegreen_full.yaml",
}

func loadMistakes() []mistake {
	b, err := os.ReadFile(filepath.Join("testdata", "mistakes.yaml"))
	if err != nil {
		panic(err)
	}
	var out []mistake
	if err := yaml.UnmarshalStrict(b, &out); err != nil {
		panic(fmt.Sprintf("testdata/mistakes.yaml: %v", err))
	}
	return out
}

// loadSample reads a full sample from testdata.
func loadSample(file string) map[string]any {
	b, err := os.ReadFile(filepath.Join("testdata", file))
	Expect(err).NotTo(HaveOccurred())
	var obj map[string]any
	Expect(yaml.Unmarshal(b, &obj)).To(Succeed())
	return obj
}

// inTestNamespace moves obj to the suite's namespace under a generated name,
// so that it never meets another test's object of the same name.
func inTestNamespace(obj *unstructured.Unstructured) *unstructured.Unstructured {
	obj.SetNamespace(namespace)
	obj.SetGenerateName(obj.GetName() + "-")
	obj.SetName("")
	return obj
}

// mergePatch applies an RFC 7386 JSON merge patch to doc.
func mergePatch(doc, patch map[string]any) map[string]any {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			sub, ok := doc[k].(map[string]any)
			if !ok {
				sub = map[string]any{}
			}
			doc[k] = mergePatch(sub, pv)
		default:
			doc[k] = v
		}
	}
	return doc
}

var _ = Describe("A corpus of plausible mistakes", func() {
	mistakes := loadMistakes()

	It("holds at least 60 mistakes, each naming what the refusal must say", func() {
		Expect(len(mistakes)).To(BeNumerically(">=", 60))
		seen := map[string]bool{}
		for _, m := range mistakes {
			Expect(m.Expect).NotTo(BeEmpty(), m.Name)
			Expect(sampleFiles).To(HaveKey(m.Kind), m.Name)
			Expect(seen).NotTo(HaveKey(m.Name), "two mistakes named %q", m.Name)
			seen[m.Name] = true
		}
	})

	It("starts from samples the API server accepts as they are", func() {
		for kind, file := range sampleFiles {
			obj := inTestNamespace(&unstructured.Unstructured{Object: loadSample(file)})
			Expect(k8sClient.Create(ctx, obj, client.DryRunAll)).To(Succeed(), "%s sample %s", kind, file)
		}
	})

	for _, m := range mistakes {
		It("refuses "+m.Name, func() {
			obj := inTestNamespace(&unstructured.Unstructured{Object: mergePatch(loadSample(sampleFiles[m.Kind]), m.Patch)})
			err := k8sClient.Create(ctx, obj, client.DryRunAll)
			Expect(err).To(HaveOccurred(), "the API server accepted: %s", m.Name)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "expected an Invalid error, got %v", err)
			for _, w := range m.Expect {
				Expect(err.Error()).To(ContainSubstring(w))
			}
			for _, w := range m.Absent {
				Expect(err.Error()).NotTo(ContainSubstring(w))
			}
		})
	}
})
