// A plan file (`tpufleet plan -o`, planner/plan_file.h) as placements of a repository's entries,
// for `tpufleet serve --plan`: each unit of one model puts that entry on the unit's devices; a
// unit of several is a co-compiled group in the unit's order. A plan model names a file: it is
// the entry serving that file (the same path, resolved), else the one entry whose served file,
// or whose compiled file's uncompiled twin, has the same file name.
//
// Stateless; reads the file system through the repository.
#pragma once

#include <map>
#include <string>

#include "planner/plan_file.h"
#include "server/repository.h"

namespace tpufleet::server {

// Placements by entry name. INVALID_ARGUMENT, naming the plan model, for one that no entry (or
// more than one) serves, or that is no file (zoo:NAME).
Result<std::map<std::string, ModelPlacement>> PlacementsFromPlan(const planner::PlanFile& plan,
                                                                 const ModelRepository& repository);

}  // namespace tpufleet::server
