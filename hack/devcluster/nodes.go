package main

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// GPU feature discovery labels (NVIDIA gpu-feature-discovery), which the operator selects on.
const (
	labelGPUProduct = "nvidia.com/gpu.product"
	labelGPUMemory  = "nvidia.com/gpu.memory"
	labelGPUCount   = "nvidia.com/gpu.count"
)

// gpuNode is a simulated GPU node for KWOK: it has the GPU capacity and the labels GPU
// feature discovery would put on it, and the taint GPU node pools commonly carry so only
// pods asking for GPUs (which the operator makes tolerate it) land there.
func gpuNode(name string, gpus int, product string, memoryMiB int64) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
		gpuResource:           *resource.NewQuantity(int64(gpus), resource.DecimalSI),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
				labelGPUProduct:          product,
				labelGPUMemory:           strconv.FormatInt(memoryMiB, 10),
				labelGPUCount:            strconv.Itoa(gpus),
			},
			Annotations: map[string]string{
				kwokNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
		},
		Spec: corev1.NodeSpec{
			Taints: []corev1.Taint{{Key: string(gpuResource), Value: "present", Effect: corev1.TaintEffectNoSchedule}},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}
