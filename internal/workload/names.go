package workload

import "github.com/sluice-dev/sluice/api/v1alpha1"

// FieldManager is the field manager of every write Sluice makes.
const FieldManager = "sluice"

// Labels and annotations Sluice puts on the objects it creates. They are
// never put on the user's Deployment or its pods.
const (
	// LabelWorkload names the Sluice-owned Deployment a pod belongs to, for
	// example podinfo-primary or podinfo-blue. It is on the copy's selector
	// and pod template, so the copy's pods are selectable apart from the
	// user's.
	LabelWorkload = "rollouts.sluice.dev/workload"
	// LabelColor is the color (blue or green) of a BlueGreen copy's pods. The
	// active and preview Services select on it.
	LabelColor = "rollouts.sluice.dev/color"
	// LabelPodTemplateHash is the label the Deployment controller puts on the
	// pods of each ReplicaSet. The canary Service selects on it.
	LabelPodTemplateHash = "pod-template-hash"
	// AnnotationRevision on a copy records the Revision of the user's pod
	// template it runs.
	AnnotationRevision = "rollouts.sluice.dev/revision"
	// AnnotationRenamedLabels on a primary's pod template lists, comma
	// separated, the keys of the user's labels whose values carry
	// PrimarySuffix on the primary's pods (see PrimaryPodLabels), so that
	// Revision reads the user's template back from it.
	AnnotationRenamedLabels = "rollouts.sluice.dev/renamed-labels"
)

// PrimaryName is the name of a Canary's primary Deployment and Service.
func PrimaryName(target string) string { return target + PrimarySuffix }

// CanaryName is the name of a Canary's canary Service.
func CanaryName(target string) string { return target + "-canary" }

// ApexName is the name of a Canary's apex Service, the one clients call, and
// of a BlueGreen's active Service.
func ApexName(target string) string { return target }

// PreviewName is the name of a BlueGreen's preview Service.
func PreviewName(target string) string { return target + "-preview" }

// ColorName is the name of a BlueGreen's Deployment of one color.
func ColorName(target string, color v1alpha1.Color) string { return target + "-" + string(color) }
