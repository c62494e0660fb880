import type { KeyboardCoordinateGetter, UniqueIdentifier } from "@dnd-kit/core";

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export type Direction = "up" | "down" | "left" | "right";

const KEYS: Record<string, Direction> = { ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right" };

/**
 * The drop target the arrow key should jump to from `from`: the nearest one whose centre lies
 * in that direction, preferring targets in line with it.
 */
export function pickTarget<T>(direction: Direction, from: Box, candidates: { id: T; rect: Box }[]): { id: T; rect: Box } | null {
  const cx = from.left + from.width / 2;
  const cy = from.top + from.height / 2;
  let best: { id: T; rect: Box } | null = null;
  let bestScore = Infinity;
  for (const c of candidates) {
    const dx = c.rect.left + c.rect.width / 2 - cx;
    const dy = c.rect.top + c.rect.height / 2 - cy;
    let along: number;
    let across: number;
    switch (direction) {
      case "right":
        along = dx;
        across = dy;
        break;
      case "left":
        along = -dx;
        across = dy;
        break;
      case "down":
        along = dy;
        across = dx;
        break;
      case "up":
        along = -dy;
        across = dx;
        break;
    }
    if (along <= 1) continue;
    const score = along + 2 * Math.abs(across);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/**
 * dnd-kit keyboard coordinates that jump between drop targets (columns, the overflow and its
 * items) with the arrow keys. Unlike sortableKeyboardCoordinates it also works for items that
 * are only draggable (the discovered fields). Targets in `skip` are never jumped to.
 */
export function jumpBetweenTargets(skip: readonly UniqueIdentifier[] = []): KeyboardCoordinateGetter {
  return (event, { context: { active, collisionRect, droppableRects, droppableContainers, over } }) => {
    const direction = KEYS[event.code];
    if (!direction) return undefined;
    event.preventDefault();
    if (!active || !collisionRect) return undefined;
    const candidates: { id: UniqueIdentifier; rect: Box }[] = [];
    for (const entry of droppableContainers.getEnabled()) {
      if (entry.id === active.id || entry.id === over?.id || skip.includes(entry.id)) continue;
      const rect = droppableRects.get(entry.id);
      if (rect) candidates.push({ id: entry.id, rect });
    }
    // From the target it is over when there is one, so each press moves one target along.
    const fromRect = over ? (droppableRects.get(over.id) ?? collisionRect) : collisionRect;
    const target = pickTarget(direction, fromRect, candidates);
    if (!target) return undefined;
    return {
      x: target.rect.left + target.rect.width / 2 - collisionRect.width / 2,
      y: target.rect.top + target.rect.height / 2 - collisionRect.height / 2,
    };
  };
}
