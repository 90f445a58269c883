/* Pitch names: MIDI 60 is "C4" (so 0 is "C-1" and 127 is "G9"). Sharps are written '#'; on
 * parsing, flats 'b' are accepted too, so "Db4" and "C#4" are both 61. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "pitch.h"

static const char *const NAMES[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};

int mrnn__pitch_name(int pitch, char *buf, size_t cap)
{
    if (pitch < 0 || pitch > 127 || !buf || cap == 0) return -1;
    int n = snprintf(buf, cap, "%s%d", NAMES[pitch % 12], pitch / 12 - 1);
    if (n < 0 || (size_t)n >= cap) {
        buf[0] = '\0';
        return -1;
    }
    return n;
}

int mrnn__pitch_parse(const char *s, size_t len, int *pitch)
{
    /* Semitones of the natural letters A..G above C. */
    static const int LETTER[7] = {9, 11, 0, 2, 4, 5, 7};
    if (!s || len < 2) return -1;
    size_t i = 0;
    if (s[i] < 'A' || s[i] > 'G') return -1;
    int pc = LETTER[s[i++] - 'A'];
    if (s[i] == '#') {
        pc++;
        i++;
    } else if (s[i] == 'b') {
        pc--;
        i++;
    }
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    /* One digit, except "10" is not an octave we can reach; -1 is the only negative octave. */
    if (i + 1 != len || s[i] < '0' || s[i] > '9') return -1;
    int octave = s[i] - '0';
    if (neg) {
        if (octave != 1) return -1;
        octave = -1;
    }
    int p = (octave + 1) * 12 + pc;
    if (p < 0 || p > 127) return -1;
    *pitch = p;
    return 0;
}

MRNN_API mrnn_status mrnn_pitch_parse(const char *name, uint32_t *pitch)
{
    MRNN_CHECK_ARG(name, "name");
    MRNN_CHECK_ARG(pitch, "pitch");
    /* the seed-text notation has capital letters; a program's user may type "c4" */
    char buf[8];
    size_t len = strlen(name);
    int p;
    if (len < sizeof buf) {
        memcpy(buf, name, len + 1);
        if (buf[0] >= 'a' && buf[0] <= 'g') buf[0] = (char)(buf[0] - 'a' + 'A');
        if (mrnn__pitch_parse(buf, len, &p) == 0) {
            *pitch = (uint32_t)p;
            return MRNN_OK;
        }
    }
    return mrnn__fail(MRNN_ERR_INVALID_ARG, "'%.40s' is not a pitch name (C-1 .. G9, e.g. C4, F#3, Bb5)", name);
}
