/* The cost of the training step's allreduce by itself: MPI_Allreduce of N floats, in place, after
 * a barrier (so that waiting for a slower rank is not counted), repeated.
 *   mpirun -np 2 bench/mpi_allreduce N_FLOATS REPS     prints the median microseconds on rank 0 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long n = argc > 1 ? atol(argv[1]) : 1068934;
    int reps = argc > 2 ? atoi(argv[2]) : 50;
    float *buf = calloc((size_t)n, sizeof *buf);
    double *t = calloc((size_t)reps, sizeof *t);
    if (!buf || !t) MPI_Abort(MPI_COMM_WORLD, 1);
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        t[r] = MPI_Wtime() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    if (rank == 0)
        printf("%d ranks, %ld floats (%.2f MB): median %.0f us, min %.0f us, %.2f GB/s of buffer\n", size, n,
               4e-6 * (double)n, 1e6 * t[reps / 2], 1e6 * t[0], 4e-9 * (double)n / t[reps / 2]);
    free(buf);
    free(t);
    MPI_Finalize();
    return 0;
}
