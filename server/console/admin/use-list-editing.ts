/** A list with at most one item open for editing, and a line saying what last changed in it. */
import { useState } from 'react';
import type { DoneLine } from './AdminParts.js';

/** The item being edited, the last change's line, and the steps between. */
export interface ListEditing<T> {
  editing: T | null;
  done: DoneLine | null;
  /** Opens `item` for editing; the line of an earlier change goes. */
  edit: (item: T) => void;
  stopEditing: () => void;
  /** Shows what changed and reloads the page's data. */
  changed: (done: DoneLine) => void;
}

/** The editing state of one admin list; `onChanged` reloads what the page shows. */
export function useListEditing<T>(onChanged: () => void): ListEditing<T> {
  const [editing, setEditing] = useState<T | null>(null);
  const [done, setDone] = useState<DoneLine | null>(null);

  return {
    editing,
    done,
    edit: (item) => {
      setDone(null);
      setEditing(item);
    },
    stopEditing: () => setEditing(null),
    changed: (line) => {
      setDone(line);
      onChanged();
    },
  };
}
