#!/usr/bin/env python3
"""Normalised cross-correlation of two recordings (16-bit PCM WAV or raw
48 kHz s16le), for the audio tests.

usage: audio_sim.py [--tail S] [--chunks] REF REC  -> prints "SCORE LAG_MS"
       audio_sim.py [--tail S] --chunk-report REF REC -> one line per chunk
       audio_sim.py --rms FILE       -> prints the RMS level in dBFS

REF is the shorter sound (what was said); it is slid over REC (what was
heard) and at every lag the correlation of REF with the same-length piece of
REC is normalised by both pieces' energy. The best score is printed (1.0 =
identical up to gain; an Opus round trip of speech scores about 0.95, a
different sentence about 0.1) with its lag in ms. Both are reduced to 8 kHz
first, through the telephone band (up to 3.4 kHz): speech intelligibility
lives there, and an Opus codec's phase freedom above it would otherwise
lower the score of a faithful transmission.
With --tail SECONDS only the last SECONDS of REF are used (a listener who
joined late heard only the end). With --chunks each half second of REF is
aligned on its own (a stream that lost frames on the way). --chunk-report
prints, for each half second of REF, its score and where it was found in REC
and how far that moved from the chunk before: a stream that lost (or
gained) audio shows as a step, and where the step is says where it
happened."""
import sys
import wave

import numpy as np


def load(path):
    if path.endswith(".wav"):
        with wave.open(path, "rb") as w:
            if w.getsampwidth() != 2:
                sys.exit(f"{path}: not 16-bit")
            ch = w.getnchannels()
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
            if ch > 1:
                x = x.reshape(-1, ch).mean(axis=1)
    else:
        rate = 48000
        x = np.fromfile(path, dtype="<i2").astype(np.float64)
    if rate != 48000:
        sys.exit(f"{path}: {rate} Hz, want 48000")
    return x / 32768.0


def decimate(x, k=6, cutoff=3400.0):
    # the telephone band: a brick-wall low-pass at 3.4 kHz (FFT), then keep
    # every k-th sample (8 kHz)
    n = len(x) // k * k
    spec = np.fft.rfft(x[:n])
    spec[int(cutoff * n / 48000):] = 0
    return np.fft.irfft(spec, n)[::k]


def ncc(ref, rec, pad=4000):
    # REC padded with silence (0.5 s at 8 kHz) on both sides, so that REF
    # may also start before it or end after it
    rec = np.concatenate([np.zeros(pad), rec, np.zeros(pad + max(0, len(ref) - len(rec)))])
    n, m = len(ref), len(rec)
    size = 1 << int(np.ceil(np.log2(n + m)))
    corr = np.fft.irfft(np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size)), size)[: m - n + 1]
    c2 = np.concatenate([[0.0], np.cumsum(rec * rec)])
    win = c2[n:] - c2[: m - n + 1]
    eref = np.sqrt(np.sum(ref * ref))
    score = corr / (np.sqrt(np.maximum(win, 1e-12)) * max(eref, 1e-12))
    # pieces of REC that are nearly silent cannot match speech
    score[win < 1e-3 * eref * eref] = 0
    best = int(np.argmax(score))
    return float(score[best]), best - pad


def chunks(ref, rec, size=4000):
    """(start, energy, score, lag) of each 0.5 s piece of REF that is not
    silent, each aligned on its own (lag in 8 kHz samples)."""
    out = []
    for i in range(0, len(ref) - size // 2, size):
        piece = ref[i:i + size]
        e = float(np.sum(piece * piece))
        if e < 1e-4 * len(piece) * 1e-2:
            continue
        score, lag = ncc(piece, rec)
        out.append((i, e, score, lag))
    return out


def chunked(ref, rec):
    """Energy-weighted mean of the best score of each 0.5 s piece of REF,
    each aligned on its own: tolerant of a stream that lost or skipped a few
    frames on the way (each loss shifts the rest by 20 ms)."""
    found = chunks(ref, rec)
    weight = sum(e for _, e, _, _ in found)
    return sum(e * s for _, e, s, _ in found) / weight if weight else 0.0


def chunk_report(ref, rec):
    # the offset of REF's chunk in REC, minus where it starts in REF: the
    # same for every chunk of a faithful stream; a step down is audio lost
    # before that chunk, a step up audio added (concealment, a stretch)
    prev = prev_t = None
    for i, _, score, lag in chunks(ref, rec):
        off = lag - i
        step = ""
        if prev is not None and off != prev:
            step = "  (%.1f ms %s since %.1f s)" % (abs(off - prev) / 8.0,
                                                "lost" if off < prev else "added", prev_t / 8000)
        print("%5.1f-%.1f s: score %.3f at %.1f ms%s" % (i / 8000, (i + 4000) / 8000, score,
                                                          off / 8.0, step))
        prev, prev_t = off, i


def main():
    args = sys.argv[1:]
    if args and args[0] == "--rms":
        x = load(args[1])
        e = float(np.mean(x * x)) if len(x) else 0.0
        print("%.1f" % (10 * np.log10(e) if e > 1e-12 else -120.0))
        return
    tail, mode = None, None
    while args and args[0].startswith("--"):
        if args[0] == "--tail":
            tail = float(args[1])
            args = args[2:]
        elif args[0] in ("--chunks", "--chunk-report"):
            mode = args[0]
            args = args[1:]
        else:
            sys.exit(__doc__)
    if len(args) != 2:
        sys.exit(__doc__)
    ref, rec = load(args[0]), load(args[1])
    if tail:
        ref = ref[-int(tail * 48000):]
    ref, rec = decimate(ref), decimate(rec)
    if mode == "--chunks":
        print("%.3f 0" % chunked(ref, rec))
        return
    if mode == "--chunk-report":
        chunk_report(ref, rec)
        return
    score, lag = ncc(ref, rec)
    print("%.3f %d" % (score, lag * 1000 // 8000))


if __name__ == "__main__":
    main()
