// The speech timeline: wavesurfer.js with a timeline ruler, zoom, and one trim region. The region and
// the store agree both ways: dragging the region updates the trim; I/O keys and the fields move the
// region. Space plays/pauses the trimmed region.
import { useEffect, useMemo, useRef, useState } from 'react';
import WaveSurfer from 'wavesurfer.js';
import RegionsPlugin from 'wavesurfer.js/plugins/regions';
import type { Region } from 'wavesurfer.js/plugins/regions';
import TimelinePlugin from 'wavesurfer.js/plugins/timeline';
import { formatClock } from '../../lib/format.js';
import type { Trim } from '../../lib/trim.js';
import { clampTrim, setIn, setOut } from '../../lib/trim.js';

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export function Waveform({ url, duration, trim, onTrim }: { url: string; duration: number; trim: Trim; onTrim: (t: Trim) => void }) {
  const container = useRef<HTMLDivElement>(null);
  const ws = useRef<WaveSurfer | null>(null);
  const region = useRef<Region | null>(null);
  const trimRef = useRef(trim);
  trimRef.current = trim;
  const [zoom, setZoom] = useState(50);
  const [ready, setReady] = useState(false);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  // Plugins are created once per waveform (wavesurfer mutates them).
  const plugins = useMemo(() => ({ regions: RegionsPlugin.create(), timeline: TimelinePlugin.create({ height: 18 }) }), [url]);

  useEffect(() => {
    if (!container.current) return;
    const w = WaveSurfer.create({
      container: container.current,
      url,
      height: 96,
      waveColor: cssVar('--wave'),
      progressColor: cssVar('--wave-progress'),
      cursorColor: cssVar('--text'),
      minPxPerSec: zoom,
      dragToSeek: true,
      plugins: [plugins.regions, plugins.timeline],
    });
    ws.current = w;
    w.on('ready', () => {
      setReady(true);
      const t = trimRef.current;
      region.current = plugins.regions.addRegion({ id: 'trim', start: t.start, end: t.end, color: cssVar('--region'), drag: true, resize: true, minLength: 0.2 });
    });
    w.on('timeupdate', (t) => setTime(t));
    w.on('play', () => setPlaying(true));
    w.on('pause', () => setPlaying(false));
    plugins.regions.on('region-updated', (r) => {
      if (r.id === 'trim') onTrim(clampTrim({ start: r.start, end: r.end }, w.getDuration() || duration));
    });
    return () => {
      setReady(false);
      region.current = null;
      w.destroy();
    };
    // The waveform is rebuilt only for a new file; zoom and trim are applied by the effects below.
  }, [url, plugins]);

  useEffect(() => {
    if (ready) ws.current?.zoom(zoom);
  }, [zoom, ready]);

  useEffect(() => {
    const r = region.current;
    if (r && (Math.abs(r.start - trim.start) > 1e-3 || Math.abs(r.end - trim.end) > 1e-3)) r.setOptions({ start: trim.start, end: trim.end });
  }, [trim]);

  const playRegion = () => {
    const w = ws.current;
    if (!w) return;
    if (w.isPlaying()) w.pause();
    else if (region.current) region.current.play(true);
    else void w.play();
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (e.defaultPrevented || (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable || el.getAttribute('role') === 'slider'))) return;
      const w = ws.current;
      if (!w) return;
      const d = w.getDuration() || duration;
      if (e.code === 'Space') {
        e.preventDefault();
        playRegion();
      } else if (e.key === 'i' || e.key === 'I') onTrim(setIn(trimRef.current, w.getCurrentTime(), d));
      else if (e.key === 'o' || e.key === 'O') onTrim(setOut(trimRef.current, w.getCurrentTime(), d));
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        // The playhead from the keyboard: 0.1 s a press, 1 s with Shift.
        e.preventDefault();
        const step = (e.shiftKey ? 1 : 0.1) * (e.key === 'ArrowLeft' ? -1 : 1);
        w.setTime(Math.min(d, Math.max(0, w.getCurrentTime() + step)));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  return (
    <div>
      <div ref={container} className="waveform" data-testid="waveform" />
      <div className="row" style={{ marginTop: 8 }}>
        <button className="btn primary" onClick={playRegion} disabled={!ready} data-testid="play-region">
          {playing ? 'Pause' : 'Play region'}
        </button>
        <span className="mono" data-testid="playhead">
          {formatClock(time)}
        </span>
        <div className="field">
          <label htmlFor="zoom">Zoom</label>
          <input id="zoom" type="range" min={10} max={500} value={zoom} onChange={(e) => setZoom(Number(e.target.value))} data-testid="zoom" />
        </div>
        <div className="field">
          <label htmlFor="trim-in">Trim in (s)</label>
          <input id="trim-in" type="number" step={0.1} min={0} value={trim.start.toFixed(1)} data-testid="trim-in" onChange={(e) => onTrim(clampTrim({ start: Number(e.target.value), end: trim.end }, duration))} />
        </div>
        <div className="field">
          <label htmlFor="trim-out">Trim out (s)</label>
          <input id="trim-out" type="number" step={0.1} min={0} value={trim.end.toFixed(1)} data-testid="trim-out" onChange={(e) => onTrim(clampTrim({ start: trim.start, end: Number(e.target.value) }, duration))} />
        </div>
      </div>
      <p className="small muted">
        <kbd>Space</kbd> plays the region, <kbd>←</kbd> / <kbd>→</kbd> move the playhead (<kbd>Shift</kbd>: 1 s), <kbd>I</kbd> / <kbd>O</kbd> set the trim in / out at the playhead. Trim: {formatClock(trim.start)} – {formatClock(trim.end)}
      </p>
    </div>
  );
}
