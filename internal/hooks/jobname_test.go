package hooks

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestJobName(t *testing.T) {
	long := strings.Repeat("a", 100)
	cases := []struct {
		name         string
		owner, hook  string
		revision     string
		wantPrefix   string
		wantFullName string
	}{
		{
			name:         "a short owner and hook are kept whole before the hash",
			owner:        "podinfo",
			hook:         "smoke",
			revision:     "7d9f8c6b5",
			wantFullName: "podinfo-smoke-" + hashOf("podinfo", "smoke", "7d9f8c6b5"),
		},
		{
			name:       "a long owner is cut so that the name fits in 63 characters",
			owner:      long,
			hook:       "smoke",
			revision:   "1",
			wantPrefix: strings.Repeat("a", 52) + "-",
		},
		{
			name:       "dots and capitals of an owner name become a DNS label",
			owner:      "Shop.Podinfo",
			hook:       "load-test",
			revision:   "abc",
			wantPrefix: "shop-podinfo-load-test-",
		},
		{
			name:       "a dash left at the cut is dropped",
			owner:      strings.Repeat("b", 51),
			hook:       "x",
			revision:   "1",
			wantPrefix: strings.Repeat("b", 51) + "-",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got := JobName(tc.owner, tc.hook, tc.revision)
			g.Expect(validation.IsDNS1123Label(got)).To(BeEmpty(), got)
			g.Expect(len(got)).To(BeNumerically("<=", 63))
			g.Expect(got).To(HaveSuffix("-" + hashOf(tc.owner, tc.hook, tc.revision)))
			if tc.wantFullName != "" {
				g.Expect(got).To(Equal(tc.wantFullName))
			}
			if tc.wantPrefix != "" {
				g.Expect(got).To(HavePrefix(tc.wantPrefix))
				g.Expect(got).NotTo(ContainSubstring("--"))
			}
		})
	}
}

func TestJobNameIsStableAndDistinct(t *testing.T) {
	long := strings.Repeat("c", 80)
	cases := []struct {
		name string
		a, b [3]string
		same bool
	}{
		{name: "the same run always gets the same name", a: [3]string{"podinfo", "smoke", "r1"}, b: [3]string{"podinfo", "smoke", "r1"}, same: true},
		{name: "another revision gets another name", a: [3]string{"podinfo", "smoke", "r1"}, b: [3]string{"podinfo", "smoke", "r2"}},
		{name: "another hook gets another name", a: [3]string{"podinfo", "smoke", "r1"}, b: [3]string{"podinfo", "load", "r1"}},
		{name: "owners cut to the same prefix get different names", a: [3]string{long + "x", "smoke", "r1"}, b: [3]string{long + "y", "smoke", "r1"}},
		{name: "the split between owner and hook counts", a: [3]string{"a-b", "c", "r1"}, b: [3]string{"a", "b-c", "r1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			x, y := JobName(tc.a[0], tc.a[1], tc.a[2]), JobName(tc.b[0], tc.b[1], tc.b[2])
			if tc.same {
				g.Expect(x).To(Equal(y))
			} else {
				g.Expect(x).NotTo(Equal(y))
			}
		})
	}
}

func TestLabelValue(t *testing.T) {
	cases := []struct {
		name, in string
	}{
		{name: "a plain name is a valid label value", in: "podinfo"},
		{name: "a 253 character owner name is cut to a valid label value", in: strings.Repeat("a.", 126) + "a"},
		{name: "characters a label may not hold are replaced", in: "pre rollout/ünïcode"},
		{name: "an empty value stays valid", in: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(validation.IsValidLabelValue(labelValue(tc.in))).To(BeEmpty())
		})
	}
}

// hashOf recomputes the documented hash independently of JobName.
func hashOf(owner, hook, revision string) string {
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(owner+"\x00"+hook+"\x00"+revision)))
	return sum[:10]
}
