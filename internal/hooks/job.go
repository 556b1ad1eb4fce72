package hooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/sluice-dev/sluice/api/v1alpha1"
)

const (
	// JobTTL is how long a finished Job (and its pods, with their logs) stays
	// before the cluster deletes it. Its result is in the owner's status by
	// then.
	JobTTL = time.Hour
	// DefaultActiveDeadlineSeconds bounds a Job whose hook sets no deadline.
	DefaultActiveDeadlineSeconds = 600
	// FieldManager is the field manager of the Jobs Sluice creates.
	FieldManager = "sluice"
)

// runJob creates the run's Job, or reads how it is doing.
func (r *Runner) runJob(ctx context.Context, owner client.Object, hook Hook, st v1alpha1.HookStatus) (v1alpha1.HookStatus, error) {
	key := client.ObjectKey{Namespace: owner.GetNamespace(), Name: JobName(owner.GetName(), hook.Name, st.Revision)}
	job := &batchv1.Job{}
	err := r.Client.Get(ctx, key, job)
	if apierrors.IsNotFound(err) {
		return r.createJob(ctx, owner, hook, st, key)
	}
	if err != nil {
		return st, fmt.Errorf("get Job %s of %s hook %s: %w", key, hook.Type, hook.Name, err)
	}
	if st.StartedAt != nil && job.CreationTimestamp.Before(st.StartedAt) {
		// Why: the Job was made by an earlier run of this hook for this
		// revision (the release was retried), so its result is not this
		// run's. Replace it; the next call creates a fresh one.
		err := r.Client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationBackground),
			client.Preconditions{UID: &job.UID})
		if client.IgnoreNotFound(err) != nil {
			return st, fmt.Errorf("delete Job %s left by an earlier run of hook %s: %w", key, hook.Name, err)
		}
		st.Message = fmt.Sprintf("replacing Job %s left by an earlier run", key.Name)
		return st, nil
	}
	return r.readJob(ctx, owner, job, st), nil
}

// createJob creates the run's Job. The API server refusing it (an invalid pod
// template) fails the run; any other error is transient.
func (r *Runner) createJob(ctx context.Context, owner client.Object, hook Hook, st v1alpha1.HookStatus, key client.ObjectKey) (v1alpha1.HookStatus, error) {
	if err := r.Policy.Check(owner.GetNamespace(), []Hook{hook}); err != nil {
		// Why: reconcilers refuse such a spec before any hook runs; this
		// keeps the Runner safe on its own. No Job is created.
		st.Attempts++
		return fail(st, r.now(), err.Error()), nil
	}
	job, err := r.buildJob(owner, hook, st.Revision, key)
	if err != nil {
		return st, err
	}
	err = r.Client.Create(ctx, job, client.FieldOwner(FieldManager))
	now := r.now()
	switch {
	case apierrors.IsAlreadyExists(err):
		// Another reconcile created it, or a cache has not seen it yet.
		return r.readExisting(ctx, owner, st, key, now)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		st.Attempts++
		return fail(st, now, fmt.Sprintf("the API server refused Job %s: %s", key.Name, apiMessage(err))), nil
	case err != nil:
		return st, fmt.Errorf("create Job %s of %s hook %s: %w", key, hook.Type, hook.Name, err)
	}
	st = start(st, now)
	st.Attempts++
	st.Message = fmt.Sprintf("Job %s created", key.Name)
	return st, nil
}

// readExisting reads a Job that Create found already there.
func (r *Runner) readExisting(ctx context.Context, owner client.Object, st v1alpha1.HookStatus, key client.ObjectKey, now time.Time) (v1alpha1.HookStatus, error) {
	job := &batchv1.Job{}
	err := r.Client.Get(ctx, key, job)
	if apierrors.IsNotFound(err) {
		st = start(st, now)
		st.Message = fmt.Sprintf("Job %s exists; waiting to read its state", key.Name)
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("get Job %s: %w", key, err)
	}
	return r.readJob(ctx, owner, job, st), nil
}

// readJob turns the state of the run's Job into the run's status.
func (r *Runner) readJob(ctx context.Context, owner client.Object, job *batchv1.Job, st v1alpha1.HookStatus) v1alpha1.HookStatus {
	if !metav1.IsControlledBy(job, owner) {
		return fail(st, r.now(), fmt.Sprintf("Job %s exists but does not belong to %s: rename the hook or delete the Job", job.Name, owner.GetName()))
	}
	// The Job's creation is the run's start when status lost it (a status
	// write that failed after the Job was created).
	st = start(st, job.CreationTimestamp.Time)
	st.Attempts = max(st.Attempts, 1)
	if c := jobCondition(job, batchv1.JobComplete); c != nil {
		at := c.LastTransitionTime.Time
		if job.Status.CompletionTime != nil {
			at = job.Status.CompletionTime.Time
		}
		return succeed(st, at, fmt.Sprintf("Job %s succeeded", job.Name))
	}
	if c := jobCondition(job, batchv1.JobFailed); c != nil {
		return fail(st, c.LastTransitionTime.Time, r.failureMessage(ctx, job, c))
	}
	if job.DeletionTimestamp != nil {
		st.Message = fmt.Sprintf("Job %s is being deleted before it finished; it will be created again", job.Name)
		return st
	}
	st.Message = fmt.Sprintf("Job %s running: %d active, %d succeeded, %d failed pods",
		job.Name, job.Status.Active, job.Status.Succeeded, job.Status.Failed)
	return st
}

// failureMessage says why a Job failed and, with a LogReader, ends with the
// last lines of its failed pod's log.
func (r *Runner) failureMessage(ctx context.Context, job *batchv1.Job, c *batchv1.JobCondition) string {
	msg := fmt.Sprintf("Job %s failed (%s): %s", job.Name, c.Reason, oneLine(c.Message))
	if r.Logs == nil {
		return msg
	}
	log, err := r.Logs.FailedPodLog(ctx, job)
	switch {
	case err != nil:
		return msg + "; its log could not be read: " + truncate(oneLine(err.Error()), excerptBytes)
	case log.Pod == "":
		return msg + "; no pod is left to read a log from"
	}
	text := summariseLog(log.Text)
	if text == "" {
		return fmt.Sprintf("%s; pod %s container %s logged nothing", msg, log.Pod, log.Container)
	}
	return fmt.Sprintf("%s; last lines of pod %s container %s: %s", msg, log.Pod, log.Container, text)
}

// buildJob returns the Job that runs hook for revision, controlled by owner.
func (r *Runner) buildJob(owner client.Object, hook Hook, revision string, key client.ObjectKey) (*batchv1.Job, error) {
	kind, err := r.kindOf(owner)
	if err != nil {
		return nil, err
	}
	spec := hook.Action.Job
	labels := map[string]string{
		LabelManagedBy: managedBy,
		LabelOwnerKind: labelValue(kind),
		LabelOwner:     labelValue(owner.GetName()),
		LabelHook:      labelValue(hook.Name),
		LabelHookType:  labelValue(hook.Type),
		LabelRevision:  labelValue(revision),
	}
	tmpl := *spec.Template.DeepCopy()
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	for k, v := range labels {
		tmpl.Labels[k] = v
	}
	if tmpl.Spec.AutomountServiceAccountToken == nil && runsAsDefault(tmpl.Spec) {
		// Why: the default ServiceAccount is the namespace's, not the hook
		// author's; its token is mounted only when the template asks.
		tmpl.Spec.AutomountServiceAccountToken = ptr.To(false)
	}
	if tmpl.Spec.RestartPolicy == "" {
		tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	}
	deadline := spec.ActiveDeadlineSeconds
	if deadline <= 0 {
		deadline = DefaultActiveDeadlineSeconds
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			Template:                tmpl,
			BackoffLimit:            ptr.To(spec.BackoffLimit),
			ActiveDeadlineSeconds:   ptr.To(deadline),
			TTLSecondsAfterFinished: ptr.To(int32(JobTTL / time.Second)),
		},
	}
	// A controller reference (SetOwnerReference plus controller: true) lets
	// a reconciler that Owns(&batchv1.Job{}) be woken when the Job changes,
	// and garbage-collects the Job with its owner.
	if err := controllerutil.SetControllerReference(owner, job, r.Client.Scheme()); err != nil {
		return nil, fmt.Errorf("set the owner of Job %s: %w", key, err)
	}
	return job, nil
}

// jobCondition returns the Job's condition of type t when it is true.
func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// apiMessage is the API server's own message in err.
func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return oneLine(status.Status().Message)
	}
	return oneLine(err.Error())
}
