#!/usr/bin/env python3
"""Usage: scripts/compare_runs.py RUN_A RUN_B

Compares two quickstart / experiment run directories: files byte for byte; JSON files that carry the run's own path or
wall-clock timings compared after replacing the root and dropping timing fields; tokenizer.model by
its pieces and scores (spm_export_vocab); report.html after masking timing numbers."""
import json, os, re, struct, subprocess, sys
A, B = sys.argv[1], sys.argv[2]
TIMING = re.compile(r'seconds|per_second|_s$|wall')
def norm(x, root):
    if isinstance(x, dict):
        return {k: (None if TIMING.search(k) else norm(v, root)) for k, v in x.items()}
    if isinstance(x, list): return [norm(v, root) for v in x]
    if isinstance(x, str): return x.replace(root, '<RUN>')
    return x
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    return {k: (v['dtype'], v['shape'], d[v['data_offsets'][0]:v['data_offsets'][1]]) for k, v in h.items() if k != '__metadata__'}
def files(d):
    out = []
    for r, _, fs in os.walk(d):
        for f in fs: out.append(os.path.relpath(os.path.join(r, f), d))
    return sorted(out)
fa, fb = files(A), files(B)
if fa != fb: print('file lists differ:', set(fa) ^ set(fb))
same = normalised = 0; bad = []
for f in fa:
    pa, pb = os.path.join(A, f), os.path.join(B, f)
    if not os.path.exists(pb): continue
    if open(pa, 'rb').read() == open(pb, 'rb').read(): same += 1; continue
    if f.endswith('.json'):
        ja, jb = norm(json.load(open(pa)), A), norm(json.load(open(pb)), B)
        if f == 'run.json':  # stage list: names only
            ja = [s['stage'] for s in json.load(open(pa))['stages']]; jb = [s['stage'] for s in json.load(open(pb))['stages']]
        ok = ja == jb
    elif f.endswith('tokenizer.model'):
        v = lambda p: subprocess.run(['spm_export_vocab', '--model=' + p], capture_output=True).stdout
        ok = v(pa) == v(pb) and len(v(pa)) > 0
    elif f.endswith('.html'):
        m = lambda p: re.sub(r'td>[\d,]+(\.\d)?<', 'td>T<', re.sub(r'\d+(\.\d+)?\s*(s|pairs/s|k pairs/s)\b', 'T', open(p).read())).replace(A if p == pa else B, '<RUN>')
        ok = m(pa) == m(pb)
        if not ok:
            import difflib
            da = m(pa).split('<'); db = m(pb).split('<')
            print('\n'.join(list(difflib.unified_diff(da, db, lineterm=''))[:20]))
    elif f.endswith('.safetensors'):  # same tensors, header fields possibly in another order
        ok = tensors(pa) == tensors(pb)
    else: ok = False
    if ok: normalised += 1
    else: bad.append(f)
print(f'{same} files byte-identical, {normalised} equal after normalising paths/timings (safetensors: every tensor), {len(bad)} differ: {bad}')
sys.exit(1 if bad or fa != fb else 0)
