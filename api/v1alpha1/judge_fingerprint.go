package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// JudgeFingerprint identifies what the judge's evidence means: its mode,
// tolerance and alpha (with the API's defaults applied), its queries and the
// address of the provider they go to (the judge's own, else def). Two specs
// with the same fingerprint gather the same evidence; anything else that may
// change in a spec (promoteOnEvidence, the threshold metrics) does not change
// the evidence and is left out. It returns "" for a nil judge.
func JudgeFingerprint(j *Judge, def *MetricProvider) string {
	if j == nil {
		return ""
	}
	mode, tolerance, alpha := j.Mode, j.Tolerance, j.Alpha
	if mode == "" {
		mode = JudgePerRequest
	}
	if tolerance == 0 {
		tolerance = 1
	}
	if alpha == 0 {
		alpha = 0.05
	}
	address := ""
	switch {
	case j.Provider != nil:
		address = j.Provider.Address
	case def != nil:
		address = def.Address
	}
	parts := []string{string(mode), strconv.FormatFloat(tolerance, 'g', -1, 64),
		strconv.FormatFloat(alpha, 'g', -1, 64), j.Requests, j.Errors, j.SlowRequests, address}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}
