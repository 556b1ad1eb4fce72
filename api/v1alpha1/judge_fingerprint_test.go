package v1alpha1

import "testing"

func TestJudgeFingerprintChangesWithWhatTheEvidenceMeans(t *testing.T) {
	def := &MetricProvider{Address: "http://prometheus:9090"}
	base := Judge{Requests: "r", Errors: "e"}
	fp := JudgeFingerprint(&base, def)
	same := map[string]Judge{
		"explicit defaults": {Requests: "r", Errors: "e", Mode: JudgePerRequest, Tolerance: 1, Alpha: 0.05},
		"promoteOnEvidence": {Requests: "r", Errors: "e", PromoteOnEvidence: true},
		"the same provider": {Requests: "r", Errors: "e", Provider: &MetricProvider{Address: "http://prometheus:9090"}},
	}
	for name, j := range same {
		if got := JudgeFingerprint(&j, def); got != fp {
			t.Errorf("%s: fingerprint %s, want %s (the evidence means the same)", name, got, fp)
		}
	}
	changed := map[string]Judge{
		"mode":         {Requests: "r", Errors: "e", Mode: JudgePerInterval},
		"tolerance":    {Requests: "r", Errors: "e", Tolerance: 1.2},
		"alpha":        {Requests: "r", Errors: "e", Alpha: 0.01},
		"requests":     {Requests: "r2", Errors: "e"},
		"errors":       {Requests: "r", Errors: "e2"},
		"slowRequests": {Requests: "r", Errors: "e", SlowRequests: "s"},
		"provider":     {Requests: "r", Errors: "e", Provider: &MetricProvider{Address: "http://other:9090"}},
	}
	for name, j := range changed {
		if got := JudgeFingerprint(&j, def); got == fp {
			t.Errorf("changing %s kept the fingerprint %s", name, fp)
		}
	}
	if JudgeFingerprint(nil, def) != "" {
		t.Error("a nil judge has a fingerprint")
	}
}
