// isolation_matrix's report: the matrix of attempts, the runaway table, the notes on what the
// kernel and the container allowed, and the raw series, all rendered from what was tried. Nothing
// here tries or decides.
#pragma once

#include "isolation_matrix/matrix.hpp"
#include "isolation_matrix/runaway.hpp"

#include "proclab/demo.hpp"

#include <vector>

namespace proclab::isolation_matrix {

// Adds the tables, notes, metrics and raw series to `result`.
void present(Result& result, const DemoContext& ctx, const std::vector<RelationshipRun>& runs,
             const std::vector<RunawayRun>& runaways, const RunawayOptions& options);

}  // namespace proclab::isolation_matrix
