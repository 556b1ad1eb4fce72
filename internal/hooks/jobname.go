package hooks

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Labels Sluice puts on the Jobs of hooks and their pods. Label values are
// cut to 63 characters; the owner reference, not the label, is what ties a
// Job to its owner.
const (
	// LabelManagedBy marks the objects Sluice creates.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelOwnerKind is the kind of the Job's owner: Canary or BlueGreen.
	LabelOwnerKind = "rollouts.sluice.dev/owner-kind"
	// LabelOwner is the name of the Job's owner.
	LabelOwner = "rollouts.sluice.dev/owner"
	// LabelHook is the name of the hook the Job runs.
	LabelHook = "rollouts.sluice.dev/hook"
	// LabelHookType is the type of the hook the Job runs.
	LabelHookType = "rollouts.sluice.dev/hook-type"
	// LabelRevision is the revision the Job runs the hook for.
	LabelRevision = "rollouts.sluice.dev/revision"
)

// ManagedBy is the value of LabelManagedBy on the Jobs Sluice creates; the
// operator caches only the Jobs that carry it.
const ManagedBy = "sluice"

// managedBy is ManagedBy.
const managedBy = ManagedBy

const (
	// maxJobName bounds a Job's name: the Job controller copies it into the
	// job-name label of its pods, and label values are at most 63 characters.
	maxJobName = 63
	// hashLen is the number of hex digits of the hash that ends a Job's name.
	hashLen = 10
)

// JobName is the name of the Job that runs hook for revision on behalf of the
// object named owner. It is "<owner>-<hook>-<hash>": hash is the first 10 hex
// digits of the SHA-256 of owner, hook and revision (NUL-separated), and the
// "<owner>-<hook>" prefix is lowercased, has every character outside
// [a-z0-9-] replaced by '-', and is cut to 52 characters so that the name is
// a DNS label of at most 63 characters. The hash covers all three inputs, so
// two runs whose prefixes are cut to the same text still get different names,
// and the same run always gets the same name: a reconciler that restarts, or
// runs twice, finds the Job it made instead of making another.
func JobName(owner, hook, revision string) string {
	sum := sha256.Sum256([]byte(owner + "\x00" + hook + "\x00" + revision))
	hash := hex.EncodeToString(sum[:])[:hashLen]
	prefix := dnsLabel(owner + "-" + hook)
	prefix = strings.TrimRight(truncateASCII(prefix, maxJobName-hashLen-1), "-")
	if prefix == "" {
		return "hook-" + hash
	}
	return prefix + "-" + hash
}

// dnsLabel lowercases s and replaces what a DNS label may not hold by '-',
// with no '-' at the start.
func dnsLabel(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	return strings.TrimLeft(string(b), "-")
}

// labelValue makes s a valid label value: at most 63 characters of
// [A-Za-z0-9._-], starting and ending with a letter or digit.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			b[i] = '-'
		}
	}
	return strings.Trim(truncateASCII(string(b), 63), "-._")
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// truncateASCII cuts s, made of ASCII only, to n bytes.
func truncateASCII(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
