// The HTML pages' Markdown conversion and escaping (render/html.h).
#include <gtest/gtest.h>

#include "render/html.h"

namespace vouch::cli {
namespace {

TEST(Html, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
}

TEST(Html, MarkdownOfTheReportsBecomesHtml) {
  const std::string md =
      "# Report <x>\n\n## Summary\n- **Verdict**: ✅ PASS\n- **Failed Checks**:\n  - one `a&b`\n  - two\n- last\n\n"
      "| Table | Rows |\n|---|---:|\n| public.t | 1,234 |\n\n```\nFINAL <hash>\n```\n_a note_\nplain\n";
  EXPECT_EQ(MarkdownToHtml(md),
            "<h1>Report &lt;x&gt;</h1>\n<h2>Summary</h2>\n<ul>\n<li><strong>Verdict</strong>: ✅ PASS</li>\n"
            "<li><strong>Failed Checks</strong>:\n<ul>\n<li>one <code>a&amp;b</code></li>\n<li>two</li>\n</ul>\n</li>\n"
            "<li>last</li>\n</ul>\n<table>\n<tr><th>Table</th><th>Rows</th></tr>\n"
            "<tr><td>public.t</td><td>1,234</td></tr>\n</table>\n<pre>FINAL &lt;hash&gt;\n</pre>\n"
            "<p class=\"note\">a note</p>\n<p>plain</p>\n");
}

}  // namespace
}  // namespace vouch::cli
