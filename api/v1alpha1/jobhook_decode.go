package v1alpha1

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// jobHookFields are JobHook's fields with the template kept as written.
type jobHookFields struct {
	Template              json.RawMessage `json:"template,omitempty"`
	ActiveDeadlineSeconds int64           `json:"activeDeadlineSeconds,omitempty"`
	BackoffLimit          int32           `json:"backoffLimit,omitempty"`
}

// UnmarshalJSON decodes a JobHook so that a template which is not a pod
// template (a quoted port number, a string where a list belongs, stored
// under an older schemaless CRD) fails this one object, not every list of
// its kind: the error is kept in TemplateError and the template left empty.
// The operator's caches decode whole lists at once; a returned error here
// would stop every release in the cluster.
func (j *JobHook) UnmarshalJSON(b []byte) error {
	var f jobHookFields
	if err := utiljson.Unmarshal(b, &f); err != nil {
		return err
	}
	*j = JobHook{ActiveDeadlineSeconds: f.ActiveDeadlineSeconds, BackoffLimit: f.BackoffLimit}
	if len(f.Template) == 0 || string(f.Template) == "null" {
		return nil
	}
	if err := utiljson.Unmarshal(f.Template, &j.Template); err != nil {
		j.Template = corev1.PodTemplateSpec{}
		j.TemplateError = fmt.Sprintf("not a pod template: %v", err)
	}
	return nil
}
