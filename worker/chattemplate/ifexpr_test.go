package chattemplate

import "testing"

func TestRewriteInlineIfs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{{ 'a' + (x if c else "") }}`, `{{ 'a' + (((c) and [x] or [""])[0]) }}`},
		// Top-level conditionals gonja takes as they are; text, strings and comments stay.
		{`{{ x if c else y }} (a if b else c) {# (a if b else c) {{ #}`, `{{ x if c else y }} (a if b else c) {# (a if b else c) {{ #}`},
		{`{{ f('(a if b else c)', (a if b else c)) }}`, `{{ f('(a if b else c)', (((b) and [a] or [c])[0])) }}`},
		{`{% set p = (a if b else c if d else e) %}`, `{% set p = (((b) and [a] or [((d) and [c] or [e])[0]])[0]) %}`},
		{`{{ ((x if y else z) if w else v) }}`, `{{ (((w) and [(((y) and [x] or [z])[0])] or [v])[0]) }}`},
		{`{{ (elif_x if iffy else elsewhere) }}`, `{{ (((iffy) and [elif_x] or [elsewhere])[0]) }}`},
		{`{{ (x for x in y if z) }} {{ (a, b if c else d) }}`, `{{ (x for x in y if z) }} {{ (a,((c) and [b] or [d])[0]) }}`},
	} {
		if got := rewriteInlineIfs(c.in); got != c.want {
			t.Errorf("rewriteInlineIfs(%s)\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

// The rewritten form evaluates only the branch its condition picks, as Jinja's conditional does: the other
// branch may be undefined, or an error.
func TestInlineIfRendersTheChosenBranch(t *testing.T) {
	tpl, err := New(`{% for m in messages %}{{ '[' + (m['content'] if m['role'] == 'user' else raise_exception('no')) + ']' }}{% endfor %}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render([]Message{{Role: "user", Content: "hi"}, {Role: "user", Content: ""}}, false)
	if err != nil || got != "[hi][]" {
		t.Fatalf("Render = %q, %v; want \"[hi][]\"", got, err)
	}
	if _, err := tpl.Render([]Message{{Role: "assistant", Content: "x"}}, false); err == nil {
		t.Fatal("the else branch was not evaluated")
	}
}
