/* SPDX-License-Identifier: Apache-2.0 */
#include "capsule/profiles.h"

/* Every variable is one the software concerned reads (docs/profiles.md). */
const struct nvb_builtin_profile nvb_builtin_profiles[] = {
	{"gaming", "Vulkan/OpenGL games, Proton/DXVK with DLSS, streaming with NVENC",
	 "graphics,display,video,compute,utility,ngx",
	 {"__GLX_VENDOR_LIBRARY_NAME=nvidia",
	  "__EGL_VENDOR_LIBRARY_FILENAMES=/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
	  "VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json",
	  "VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/nvidia_icd.json", "PROTON_ENABLE_NVAPI=1",
	  "__GL_SHADER_DISK_CACHE=1", NULL}},
	{"ai-ml", "CUDA training and inference (PyTorch, TensorFlow, JAX)", "compute,utility",
	 {"CUDA_MODULE_LOADING=LAZY", "CUDA_CACHE_MAXSIZE=4294967296",
	  "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True", "TF_FORCE_GPU_ALLOW_GROWTH=true",
	  "XLA_PYTHON_CLIENT_PREALLOCATE=false", NULL}},
	{"video", "hardware video encode/decode (NVENC, NVDEC, VDPAU)", "video,compute,utility",
	 {NULL}},
	{"compute", "CUDA and OpenCL without graphics", "compute,utility", {NULL}},
};

const size_t nvb_n_builtin_profiles = NVB_ARRAY_SIZE(nvb_builtin_profiles);

const struct nvb_builtin_profile *nvb_builtin_profile(const char *name)
{
	for (size_t i = 0; name && i < nvb_n_builtin_profiles; i++)
		if (!strcmp(nvb_builtin_profiles[i].name, name))
			return &nvb_builtin_profiles[i];
	return NULL;
}
