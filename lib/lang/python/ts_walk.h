/* lang/python/ts_walk.h — one pre-order walk over a tree-sitter tree's subtrees, reading the
 * runtime's own node layout (the vendored tree-sitter 0.25.1: subtree.h, language.h, tree.h)
 * instead of going through TSTreeCursor. It visits exactly the visible nodes a TSTreeCursor
 * walk from the root visits (hidden nodes transparent, aliases applied), in the same order, at
 * a fraction of the cost: the cursor re-derives each step from its stack (≈ 700 instructions a
 * node on Python sources), which made the identifier-occurrence table ≈ 15 % of a cold build.
 *
 * `cls` classifies symbols (by the symbol the node shows, alias included: what ts_node_symbol
 * and ts_node_type read): 0 = descend into the node's children, 1 = report the node to `fn` and
 * do not descend, anything else = skip the node and its children. Symbols at or above
 * `cls_count` (the error symbols) count as 0. The root itself is not classified or reported
 * (a cursor walk starts at its first child). `fn` gets the node's start and end byte, as
 * ts_node_start_byte / ts_node_end_byte (its start point is the text's: rows count '\n' bytes,
 * columns bytes since the last one, as tree-sitter's lexer counts them). Nodes come in source
 * order (pre-order: start bytes never decrease).
 *
 * Thread rules: reads the tree only; as safe as any const use of a TSTree. Failure behaviour:
 * returns false (having reported a prefix of the nodes) when memory for its stack runs out. */
#ifndef TRIFECTA_LANG_PYTHON_TS_WALK_H_
#define TRIFECTA_LANG_PYTHON_TS_WALK_H_

#include <stdbool.h>
#include <stdint.h>
#include <tree_sitter/api.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*trifecta_ts_report_fn)(void* ctx, uint32_t start_byte, uint32_t end_byte);

bool trifecta_ts_walk(const TSTree* tree, const uint8_t* cls, uint32_t cls_count,
                      trifecta_ts_report_fn fn, void* ctx);

/* The same walk restricted to the nodes that overlap the bytes [lo, hi): a node that ends at or
 * before `lo` or starts at or after `hi` is neither reported nor entered (nor are the siblings
 * after one that starts at or after `hi`). With [0, UINT32_MAX) it is trifecta_ts_walk. */
bool trifecta_ts_walk_range(const TSTree* tree, const uint8_t* cls, uint32_t cls_count, uint32_t lo,
                            uint32_t hi, trifecta_ts_report_fn fn, void* ctx);

#ifdef __cplusplus
}
#endif

#endif
