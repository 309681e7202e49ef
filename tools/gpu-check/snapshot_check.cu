// A CUDA process for tools/gpu-check.sh's GPU snapshot check (docs/snapshot.md): fills device
// memory with a known pattern, prints "ready PID BYTES", then waits for SIGUSR1 (the check
// checkpoints and restores it meanwhile with nvbind gpu checkpoint/restore). On the signal it
// verifies the pattern on the GPU, runs a kernel again, and exits 0 when every word is intact.
// It makes no CUDA call while waiting, so the lock does not wait for its work. Gives up after
// 300 s without a signal.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
#include <unistd.h>

#define CHECK(call)                                                                        \
	do {                                                                               \
		cudaError_t e_ = (call);                                                   \
		if (e_ != cudaSuccess) {                                                   \
			printf("error %s: %s\n", #call, cudaGetErrorString(e_));          \
			return 1;                                                          \
		}                                                                          \
	} while (0)

__device__ __host__ static unsigned pattern(size_t i)
{
	return (unsigned)(i * 2654435761u) ^ 0x5eed1234u;
}

__global__ void fill(unsigned *p, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		p[i] = pattern(i);
}

__global__ void verify(const unsigned *p, size_t n, unsigned long long *bad)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		if (p[i] != pattern(i))
			atomicAdd(bad, 1ull);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
	size_t n = mib * 1024 * 1024 / sizeof(unsigned);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL); // before any thread the runtime starts
	unsigned *d = NULL;
	unsigned long long *d_bad = NULL, bad = 0;
	CHECK(cudaMalloc(&d, n * sizeof(unsigned)));
	CHECK(cudaMalloc(&d_bad, sizeof(bad)));
	CHECK(cudaMemset(d_bad, 0, sizeof(bad)));
	fill<<<1024, 256>>>(d, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	printf("ready %d %zu\n", (int)getpid(), n * sizeof(unsigned));
	fflush(stdout);

	struct timespec limit = {300, 0};
	if (sigtimedwait(&set, NULL, &limit) != SIGUSR1) {
		printf("error: no SIGUSR1 within 300 s\n");
		return 1;
	}
	verify<<<1024, 256>>>(d, n, d_bad);
	CHECK(cudaGetLastError());
	CHECK(cudaMemcpy(&bad, d_bad, sizeof(bad), cudaMemcpyDeviceToHost));
	// a spot check on the host side too: the first and last words
	unsigned first = 0, last = 0;
	CHECK(cudaMemcpy(&first, d, sizeof(first), cudaMemcpyDeviceToHost));
	CHECK(cudaMemcpy(&last, d + n - 1, sizeof(last), cudaMemcpyDeviceToHost));
	bool ok = bad == 0 && first == pattern(0) && last == pattern(n - 1);
	printf("pattern %s (%llu of %zu words wrong)\n", ok ? "ok" : "FAILED", bad, n);
	// the GPU works after the restore: a new kernel over the same memory
	fill<<<1024, 256>>>(d, n);
	CHECK(cudaGetLastError());
	CHECK(cudaDeviceSynchronize());
	printf("kernel after restore ok\n");
	cudaFree(d);
	cudaFree(d_bad);
	return ok ? 0 : 1;
}
