/* Open MPI glue for data-parallel training (see cli_mpi.h). Only the program links MPI: the
 * library takes the allreduce as a callback. */
#include "cli_mpi.h"

#include <stdlib.h>
#include <time.h>

#ifdef MUSICRNN_HAVE_MPI
#include <mpi.h>

static int started;
static double reduce_seconds;
static uint64_t reduce_calls;

static int launched_by_mpirun(void)
{
    /* Open MPI's launcher sets OMPI_COMM_WORLD_SIZE; PMI/PMIx launchers (Slurm's srun, MPICH's
     * Hydra) set PMI_SIZE or PMIX_RANK. MPI_Init without them would start a singleton. */
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int cli_mpi_start(uint32_t *rank, uint32_t *n_ranks)
{
    *rank = 0;
    *n_ranks = 1;
    if (!launched_by_mpirun()) return 0;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) return 0;
    started = 1;
    int r = 0, n = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    *rank = (uint32_t)r;
    *n_ranks = (uint32_t)n;
    return 1;
}

int cli_mpi_allreduce(float *data, size_t count, void *user_data)
{
    (void)user_data;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    /* One call per step for the whole fused buffer; counts beyond INT_MAX go in pieces. */
    int rc = MPI_SUCCESS;
    while (count > 0 && rc == MPI_SUCCESS) {
        int n = count > (size_t)1 << 30 ? 1 << 30 : (int)count;
        rc = MPI_Allreduce(MPI_IN_PLACE, data, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        data += n;
        count -= (size_t)n;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    reduce_seconds += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    reduce_calls++;
    return rc == MPI_SUCCESS ? 0 : -1;
}

double cli_mpi_allreduce_seconds(uint64_t *calls)
{
    *calls = reduce_calls;
    return reduce_seconds;
}

void cli_mpi_stop(void)
{
    if (started) MPI_Finalize();
    started = 0;
}

#else

int cli_mpi_start(uint32_t *rank, uint32_t *n_ranks)
{
    *rank = 0;
    *n_ranks = 1;
    return 0;
}

int cli_mpi_allreduce(float *data, size_t count, void *user_data)
{
    (void)data;
    (void)count;
    (void)user_data;
    return -1;
}

double cli_mpi_allreduce_seconds(uint64_t *calls)
{
    *calls = 0;
    return 0;
}

void cli_mpi_stop(void) {}

#endif
