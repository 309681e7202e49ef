// tools/gpu-check.sh's MPS client (docs/isolation.md): mps-check MIB allocates MIB MiB of device
// memory on device 0 and runs a kernel over it. Under MPS with
// CUDA_MPS_PINNED_DEVICE_MEM_LIMIT=0=1G, 256 MiB must succeed and 4096 MiB must fail: the limit
// is enforced by the MPS server, not by nvbind. Prints "alloc MIB ok" (exit 0) or
// "alloc MIB failed: ..." (exit 1); other errors exit 2.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

__global__ void fill(unsigned char *p, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	for (; i < n; i += (size_t)gridDim.x * blockDim.x)
		p[i] = (unsigned char)i;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mps-check MIB\n");
		return 2;
	}
	size_t mib = strtoull(argv[1], NULL, 10);
	const char *limit = getenv("CUDA_MPS_PINNED_DEVICE_MEM_LIMIT");
	const char *pipe = getenv("CUDA_MPS_PIPE_DIRECTORY");
	printf("limit %s pipe %s\n", limit ? limit : "(none)", pipe ? pipe : "(none)");
	cudaError_t e = cudaFree(0); // creates the context: through the MPS server when one runs
	if (e != cudaSuccess) {
		printf("context failed: %s\n", cudaGetErrorString(e));
		return 2;
	}
	unsigned char *p = NULL;
	e = cudaMalloc(&p, mib << 20);
	if (e != cudaSuccess) {
		printf("alloc %zu failed: %s\n", mib, cudaGetErrorString(e));
		return 1;
	}
	fill<<<256, 256>>>(p, mib << 20);
	e = cudaDeviceSynchronize();
	if (e != cudaSuccess) {
		printf("kernel failed: %s\n", cudaGetErrorString(e));
		return 2;
	}
	printf("alloc %zu ok\n", mib);
	cudaFree(p);
	return 0;
}
