/* The folder walk of mrnn_corpus_add_dir(). A stack of folders replaces recursion, so that a deep
 * tree cannot exhaust the C stack, and each folder is read completely and closed before its
 * sub-folders are visited, so that the walk holds one descriptor whatever the depth. The order is
 * the one a recursive walk over sorted names gives: a folder's entries in strcmp order, each
 * sub-folder expanded where it sorts. */
#include "dir_walk.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"

/* One folder being expanded: its sorted entries and the next one to look at. */
typedef struct frame {
    char **names; /* relative paths */
    size_t n, next;
} frame;

static int has_midi_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".mid") == 0 || strcasecmp(dot, ".midi") == 0 || strcasecmp(dot, ".smf") == 0);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void frame_free(frame *f)
{
    for (size_t i = 0; i < f->n; i++) mrnn__free(f->names[i]);
    mrnn__free(f->names);
}

void mrnn__path_list_free(mrnn__path_list *l)
{
    for (size_t i = 0; i < l->n; i++) mrnn__free(l->rel[i]);
    mrnn__free(l->rel);
    memset(l, 0, sizeof *l);
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = mrnn__malloc(na + nb + 2);
    if (!s) return NULL;
    memcpy(s, a, na);
    size_t k = na;
    if (na && nb) s[k++] = '/';
    memcpy(s + k, b, nb + 1);
    return s;
}

/* Read the entries of root/sub into f, sorted. Hidden entries (".", "..", dot files) are left out. */
static mrnn_status list_folder(const char *root, const char *sub, frame *f)
{
    memset(f, 0, sizeof *f);
    char *dir = join(root, sub);
    if (!dir) return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", root);
    DIR *d = opendir(dir);
    if (!d) {
        mrnn_status st = mrnn__fail(MRNN_ERR_IO, "%s: cannot list folder", dir);
        mrnn__free(dir);
        return st;
    }
    size_t cap = 0;
    mrnn_status st = MRNN_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *rel = join(sub, e->d_name);
        if (!rel || mrnn__grow((void **)&f->names, &cap, f->n + 1, sizeof *f->names) != 0) {
            mrnn__free(rel);
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", dir);
            break;
        }
        f->names[f->n++] = rel;
    }
    closedir(d);
    mrnn__free(dir);
    if (st != MRNN_OK) {
        frame_free(f);
        memset(f, 0, sizeof *f);
        return st;
    }
    qsort(f->names, f->n, sizeof *f->names, cmp_names);
    return MRNN_OK;
}

mrnn_status mrnn__dir_walk(const char *root, mrnn__path_list *out)
{
    frame *stack = NULL;
    size_t depth = 0, cap = 0;
    if (mrnn__grow((void **)&stack, &cap, 1, sizeof *stack) != 0)
        return mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", root);
    mrnn_status st = list_folder(root, "", &stack[0]);
    if (st == MRNN_OK) depth = 1;
    while (st == MRNN_OK && depth > 0) {
        frame *f = &stack[depth - 1];
        if (f->next == f->n) {
            frame_free(f);
            depth--;
            continue;
        }
        char *rel = f->names[f->next++];
        char *full = join(root, rel);
        if (!full) {
            st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", root);
            break;
        }
        /* lstat, not stat: a link to a folder could lead back up the tree. */
        struct stat lst;
        int is_dir = lstat(full, &lst) == 0 && S_ISDIR(lst.st_mode);
        mrnn__free(full);
        if (is_dir) {
            if (mrnn__grow((void **)&stack, &cap, depth + 1, sizeof *stack) != 0) {
                st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", root);
                break;
            }
            st = list_folder(root, rel, &stack[depth]);
            if (st == MRNN_OK) depth++;
        } else if (has_midi_extension(rel)) {
            if (mrnn__grow((void **)&out->rel, &out->cap, out->n + 1, sizeof *out->rel) != 0) {
                st = mrnn__fail(MRNN_ERR_NOMEM, "%s: out of memory", root);
                break;
            }
            out->rel[out->n++] = rel;
            f->names[f->next - 1] = NULL; /* moved to out */
        }
    }
    for (size_t i = 0; i < depth; i++) frame_free(&stack[i]);
    mrnn__free(stack);
    return st;
}
