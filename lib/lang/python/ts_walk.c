/* lang/python/ts_walk.c — see ts_walk.h. Mirrors tree_cursor.c's child iteration
 * (ts_tree_cursor_child_iterator_next: positions, extras, alias sequences, visibility). */
#include "lang/python/ts_walk.h"

#include <stdlib.h>

#include "language.h"
#include "subtree.h"
#include "tree.h"

typedef struct {
  const Subtree* children; /* the parent's children */
  uint32_t count;          /* how many */
  uint32_t child;          /* next child to look at */
  uint32_t structural;     /* index among the non-extra children */
  uint32_t position;       /* start byte of the child at `child` (after its padding) */
  const TSSymbol* aliases; /* the parent production's alias sequence, or NULL */
} Frame;

static inline bool push(Frame** stack, uint32_t* size, uint32_t* cap, const TSLanguage* lang,
                        Subtree parent, uint32_t position) {
  if (*size == *cap) {
    const uint32_t next = *cap ? *cap * 2 : 64;
    Frame* grown = (Frame*)realloc(*stack, next * sizeof(Frame));
    if (!grown) return false;
    *stack = grown;
    *cap = next;
  }
  Frame* f = &(*stack)[(*size)++];
  f->children = ts_subtree_children(parent);
  f->count = parent.ptr->child_count;
  f->child = 0;
  f->structural = 0;
  f->position = position;
  f->aliases = ts_language_alias_sequence(lang, parent.ptr->production_id);
  return true;
}

bool trifecta_ts_walk(const TSTree* tree, const uint8_t* cls, uint32_t cls_count,
                      trifecta_ts_report_fn fn, void* ctx) {
  return trifecta_ts_walk_range(tree, cls, cls_count, 0, UINT32_MAX, fn, ctx);
}

bool trifecta_ts_walk_range(const TSTree* tree, const uint8_t* cls, uint32_t cls_count, uint32_t lo,
                            uint32_t hi, trifecta_ts_report_fn fn, void* ctx) {
  const TSLanguage* lang = tree->language;
  Frame* stack = NULL;
  uint32_t size = 0, cap = 0;
  bool ok = true;
  if (ts_subtree_child_count(tree->root) > 0) {
    ok = push(&stack, &size, &cap, lang, tree->root, ts_subtree_padding(tree->root).bytes);
  }
  while (ok && size > 0) {
    Frame* f = &stack[size - 1];
    if (f->child == f->count) {
      --size;
      continue;
    }
    const Subtree child = f->children[f->child];
    if (f->child > 0) f->position += ts_subtree_padding(child).bytes;
    const uint32_t start = f->position;
    const uint32_t bytes = ts_subtree_size(child).bytes;
    f->position += bytes;
    f->child++;
    if (start >= hi) { /* so do the later siblings: done with this parent */
      f->child = f->count;
      continue;
    }
    if (start + bytes <= lo) continue; /* ends before the range: neither reported nor entered */
    TSSymbol alias = 0;
    if (!ts_subtree_extra(child)) {
      if (f->aliases) alias = f->aliases[f->structural];
      f->structural++;
    }
    if (ts_subtree_visible(child) || alias != 0) {
      const TSSymbol sym = alias ? alias : ts_subtree_symbol(child);
      const uint8_t c = sym < cls_count ? cls[sym] : 0;
      if (c == 1) {
        fn(ctx, start, start + bytes);
        continue;
      }
      if (c != 0) continue;
    }
    if (ts_subtree_child_count(child) > 0) ok = push(&stack, &size, &cap, lang, child, start);
  }
  free(stack);
  return ok;
}
