package cli

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestWeightBar(t *testing.T) {
	for _, tc := range []struct {
		name   string
		weight int32
		want   string
	}{
		{"an empty bar for no canary traffic", 0, "[....................] 0%"},
		{"one cell for 1%, so a small canary is visible", 1, "[#...................] 1%"},
		{"one cell per 5%", 10, "[##..................] 10%"},
		{"rounds down between cells", 27, "[#####...............] 27%"},
		{"half a bar at 50%", 50, "[##########..........] 50%"},
		{"a full bar at 100%", 100, "[####################] 100%"},
		{"clamps a weight above 100", 130, "[####################] 100%"},
		{"clamps a negative weight to 0", -5, "[....................] 0%"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(weightBar(tc.weight)).To(Equal(tc.want))
		})
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }
	for _, tc := range []struct {
		name string
		t    metav1.Time
		want string
	}{
		{"seconds under a minute", at(42 * time.Second), "42s"},
		{"minutes and seconds under ten minutes", at(3*time.Minute + 7*time.Second), "3m7s"},
		{"whole minutes drop the zero seconds", at(3 * time.Minute), "3m"},
		{"minutes alone under an hour", at(25*time.Minute + 10*time.Second), "25m"},
		{"hours and minutes under eight hours", at(2*time.Hour + 5*time.Minute), "2h5m"},
		{"whole hours drop the zero minutes", at(2 * time.Hour), "2h"},
		{"hours alone under two days", at(30*time.Hour + 40*time.Minute), "30h"},
		{"days after two days", at(100 * time.Hour), "4d"},
		{"zero for a time in the future (clock skew)", at(-time.Minute), "0s"},
		{"unknown for a zero time", metav1.Time{}, "<unknown>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(age(tc.t, now)).To(Equal(tc.want))
		})
	}
}

func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lo, hi *float64
		want   string
	}{
		{"an upper bound alone", nil, ptr.To(0.01), "<= 0.01"},
		{"a lower bound alone", ptr.To(0.99), nil, ">= 0.99"},
		{"both bounds as a range", ptr.To(0.5), ptr.To(2.0), "0.5..2"},
		{"no bound at all", nil, nil, "any"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(threshold(tc.lo, tc.hi)).To(Equal(tc.want))
		})
	}
}

func TestCommandIDsAreUniqueAndStartWithTheTime(t *testing.T) {
	g := NewWithT(t)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	a, err := commandID(now)
	g.Expect(err).NotTo(HaveOccurred())
	b, err := commandID(now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a).To(MatchRegexp(`^20261126T120000\.000Z-[0-9a-f]{6}$`))
	g.Expect(a).NotTo(Equal(b), "two commands in the same millisecond are still two requests")
}
