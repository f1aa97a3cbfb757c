package localrunner

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// writeStatus writes the pod's status as this worker sees it; the runner owns the status
// of the pods on its node, as a kubelet does, so it replaces all of it but the conditions
// other components add.
func (pw *podWorker) writeStatus() {
	pw.writeMu.Lock()
	defer pw.writeMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods := pw.r.client.CoreV1().Pods(pw.ns)
	for range 5 {
		cur, err := pods.Get(ctx, pw.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			pw.logf("get for status: %v", err)
			return
		}
		if cur.UID != pw.uid {
			return
		}
		cur.Status = pw.buildStatus(cur.Status)
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) {
			pw.logf("update status: %v", err)
		}
		return
	}
}

func (pw *podWorker) buildStatus(old corev1.PodStatus) corev1.PodStatus {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	st := corev1.PodStatus{
		Phase:                 pw.phase,
		Reason:                pw.reason,
		Message:               pw.message,
		HostIP:                "127.0.0.1",
		HostIPs:               []corev1.HostIP{{IP: "127.0.0.1"}},
		StartTime:             &pw.startTime,
		QOSClass:              old.QOSClass,
		InitContainerStatuses: append([]corev1.ContainerStatus(nil), pw.initStats...),
		ContainerStatuses:     append([]corev1.ContainerStatus(nil), pw.stats...),
	}
	if pw.ip != "" {
		st.PodIP = pw.ip
		st.PodIPs = []corev1.PodIP{{IP: pw.ip}}
	}
	containersReady := pw.initDone && len(pw.stats) > 0
	for _, s := range pw.stats {
		if !s.Ready {
			containersReady = false
		}
	}
	ready := containersReady && pw.phase == corev1.PodRunning
	conds := []struct {
		t  corev1.PodConditionType
		ok bool
	}{
		{corev1.PodReadyToStartContainers, pw.ip != ""},
		{corev1.PodInitialized, pw.initDone},
		{corev1.ContainersReady, containersReady},
		{corev1.PodReady, ready},
	}
	ours := map[corev1.PodConditionType]bool{}
	for _, c := range conds {
		ours[c.t] = true
	}
	for _, c := range old.Conditions { // PodScheduled and whatever others set
		if !ours[c.Type] {
			st.Conditions = append(st.Conditions, c)
		}
	}
	for _, c := range conds {
		status := corev1.ConditionFalse
		if c.ok {
			status = corev1.ConditionTrue
		}
		lt := metav1.Now()
		for _, o := range old.Conditions {
			if o.Type == c.t && o.Status == status {
				lt = o.LastTransitionTime
			}
		}
		cond := corev1.PodCondition{Type: c.t, Status: status, LastTransitionTime: lt}
		if !c.ok && (c.t == corev1.ContainersReady || c.t == corev1.PodReady) && pw.initDone {
			cond.Reason = "ContainersNotReady"
		}
		st.Conditions = append(st.Conditions, cond)
	}
	return st
}
