/* Instrument slots (GM programs + the drum kit): names, the text form of instrument lists, and the
 * per-file report of what a corpus found and dropped. */
#include <string.h>

#include "alloc.h"
#include "encoding.h"
#include "encoding_multitrack.h"
#include "error.h"
#include "instruments.h"

MRNN_API mrnn_status mrnn_instrument_report_init(mrnn_instrument_report *r, uint32_t version)
{
    MRNN_CHECK_ARG(r, "r");
    if (version != MRNN_INSTRUMENT_REPORT_VERSION)
        return mrnn__fail(MRNN_ERR_INVALID_ARG, "mrnn_instrument_report_init: version %u is not %u", version,
                          MRNN_INSTRUMENT_REPORT_VERSION);
    memset(r, 0, sizeof *r);
    r->version = version;
    return MRNN_OK;
}

MRNN_API const char *mrnn_instrument_name(uint32_t slot)
{
    if (slot == MRNN_INSTRUMENT_DRUMS) return "drums";
    return slot < 128 ? mrnn__gm_family_name(slot / 8) : NULL;
}

static void set_bit(uint32_t *mask, unsigned slot)
{
    mask[slot / 32] |= 1u << (slot % 32);
}

/* "12" -> 12; -1 if not a number in 0..127. */
static int parse_program(const char *s, size_t len)
{
    if (len == 0 || len > 3) return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 127 ? v : -1;
}

MRNN_API mrnn_status mrnn_instrument_parse(const char *list, uint32_t *mask)
{
    MRNN_CHECK_ARG(list, "list");
    MRNN_CHECK_ARG(mask, "mask");
    memset(mask, 0, MRNN_INSTRUMENT_MASK_WORDS * sizeof *mask);
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *dash = memchr(p, '-', len);
        int family = mrnn__gm_family_parse(p, len);
        int lo, hi;
        if (len == 5 && strncmp(p, "drums", 5) == 0) {
            set_bit(mask, MRNN_INSTRUMENT_DRUMS);
        } else if (family >= 0) {
            for (int k = 0; k < 8; k++) set_bit(mask, (unsigned)(family * 8 + k));
        } else if ((lo = parse_program(p, dash ? (size_t)(dash - p) : len)) >= 0 &&
                   (!dash || ((hi = parse_program(dash + 1, len - (size_t)(dash - p) - 1)) >= lo))) {
            if (!dash) hi = lo;
            for (int k = lo; k <= hi; k++) set_bit(mask, (unsigned)k);
        } else {
            memset(mask, 0, MRNN_INSTRUMENT_MASK_WORDS * sizeof *mask);
            return mrnn__fail(MRNN_ERR_UNKNOWN_TOKEN,
                              "instrument list: '%.*s' is not a GM family name, 'drums' or a program 0-127 (or range)",
                              len > 60 ? 60 : (int)len, p);
        }
        if (!end) break;
        p = end + 1;
    }
    return MRNN_OK;
}

mrnn_status mrnn__instruments_count(const mrnn__piece *p, const mrnn_encoding_params *e, mrnn__instruments **out)
{
    *out = NULL;
    uint64_t notes[MRNN_INSTRUMENT_COUNT], dropped[MRNN_INSTRUMENT_COUNT];
    uint32_t drums[4] = {0};
    memset(notes, 0, sizeof notes);
    memset(dropped, 0, sizeof dropped);
    uint8_t keep[MRNN__MT_SELECTORS];
    int multitrack = e->encoding == MRNN_ENCODING_MULTITRACK;
    if (multitrack) mrnn__mt_keep(p, e, keep);
    for (size_t i = 0; i < p->n_notes; i++) {
        const mrnn__note *n = &p->notes[i];
        unsigned slot = n->drum ? MRNN_INSTRUMENT_DRUMS : (n->program & 127u);
        notes[slot]++;
        if (multitrack && !mrnn__mt_note_kept(e, keep, n)) dropped[slot]++;
        if (n->drum) drums[(n->pitch & 127u) / 32] |= 1u << (n->pitch % 32);
    }
    uint32_t used = 0;
    for (unsigned s = 0; s < MRNN_INSTRUMENT_COUNT; s++) used += notes[s] > 0;
    mrnn__instruments *r = mrnn__malloc(sizeof *r + used * sizeof r->e[0]);
    if (!r) return mrnn__fail(MRNN_ERR_NOMEM, "out of memory for the instrument report");
    memcpy(r->drum_pitches, drums, sizeof drums);
    r->n = 0;
    for (unsigned s = 0; s < MRNN_INSTRUMENT_COUNT; s++)
        if (notes[s]) r->e[r->n++] = (mrnn__instrument_count){s, notes[s], dropped[s]};
    *out = r;
    return MRNN_OK;
}

void mrnn__instruments_export(const mrnn__instruments *r, mrnn_instrument_report *out)
{
    uint32_t version = out->version;
    memset(out, 0, sizeof *out);
    out->version = version;
    if (!r) return;
    for (uint32_t k = 0; k < r->n; k++) {
        out->notes[r->e[k].slot] = r->e[k].notes;
        out->dropped[r->e[k].slot] = r->e[k].dropped;
    }
    out->n_instruments = r->n;
    memcpy(out->drum_pitches, r->drum_pitches, sizeof out->drum_pitches);
}
