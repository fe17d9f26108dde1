// CompareSchemas on catalogs built in memory: the column order of a table is
// a note between two databases, never a difference (columns compare by name).
#include "vouch/engine/schema_compare.h"

#include <gtest/gtest.h>

namespace vouch {
namespace {

SchemaCatalog Database(std::vector<std::pair<std::string, std::string>> tables) {
  SchemaCatalog c;
  c.origin = "database";
  c.has_database_objects = true;
  for (const auto& [table, columns] : tables) {
    SchemaObject& t = c.Add("TABLE " + table);
    t.exact = FingerprintOf("r p");
    t.flags = SchemaObject::kHasExact;
    c.column_orders.emplace_back(table, FingerprintOf(columns));
  }
  c.Finish();
  return c;
}

// PostgreSQL's regression database restored: an inheritance child whose
// parent gained a column after it was made lists its columns in another
// order once restored (the inherited ones come first).
TEST(CompareSchemas, ColumnOrderIsANoteNotADifference) {
  SchemaCatalog source = Database({{"public.b_star", "class\naa\nbb\na"}, {"public.a_star", "class\na"},
                                   {"public.gone", "x"}});
  SchemaCatalog restored = Database({{"public.b_star", "class\na\naa\nbb"}, {"public.a_star", "class\na"}});
  SchemaComparison r = CompareSchemas(&source, &restored);
  ASSERT_TRUE(r.compared);
  EXPECT_EQ(r.column_order_differs, std::vector<std::string>{"public.b_star"});
  // The missing table is the difference, not its column order.
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].name, "TABLE public.gone");
  // A dump says no column order: nothing to note.
  SchemaCatalog dump = restored;
  dump.origin = "dump";
  dump.column_orders.clear();
  EXPECT_TRUE(CompareSchemas(&source, &dump).column_order_differs.empty());
  // Not part of the schema hash.
  SchemaCatalog same = Database({{"public.b_star", "class\na\naa\nbb"}, {"public.a_star", "class\na"},
                                 {"public.gone", "x"}});
  EXPECT_EQ(SchemaValidationHash(&source, false, false), SchemaValidationHash(&same, false, false));
}

}  // namespace
}  // namespace vouch
