package tokenizer

import (
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// corpus returns the texts of the differential tests, the same on every run
// with the same Go installation (its source tree provides the code).
// specials are the tokenizer's special token texts, embedded in some texts.
//
// Texts avoid U+0085 and U+FEFF: JavaScript's \s disagrees with Unicode
// White_Space on exactly these two, so the references would split them
// differently from llama.cpp.
func corpus(specials []string) []string {
	rng := rand.New(rand.NewPCG(3, 14))
	var texts []string
	add := func(s string) {
		if s != "" && utf8.ValidString(s) && !strings.ContainsAny(s, "\u0085\ufeff") {
			texts = append(texts, s)
		}
	}
	pick := func(list []string) string { return list[rng.IntN(len(list))] }

	for _, s := range goSourceSnippets(rng, 400, 15) {
		add(s)
	}
	// A few long texts, so merging runs over thousands of symbols.
	for _, s := range goSourceSnippets(rng, 10, 300) {
		add(s)
	}

	// Prose in several scripts, with the punctuation and spacing they use.
	separators := []string{" ", " ", " ", ", ", ". ", "\n", "  ", "、", "。", "! ", "? ", " — ", "\t"}
	for range 200 {
		words := scriptWords[rng.IntN(len(scriptWords))]
		var b strings.Builder
		for n := 1 + rng.IntN(12); n > 0; n-- {
			b.WriteString(pick(words))
			b.WriteString(pick(separators))
		}
		add(strings.TrimRight(b.String(), " ")) // some keep a trailing separator
	}

	// Emoji, including ZWJ sequences, skin tones, flags and keycaps.
	emoji := []string{"😀", "👍", "👍🏿", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏽‍💻", "🧑‍🚀", "🇺🇸", "🇯🇵🇩🇪", "1️⃣", "#️⃣",
		"🐈‍⬛", "😶‍🌫️", "🫠", "✨", "🙂🙃", "👁️‍🗨️", "©️", "™"}
	for range 120 {
		var b strings.Builder
		for n := 1 + rng.IntN(8); n > 0; n-- {
			switch rng.IntN(3) {
			case 0:
				b.WriteString(pick(emoji))
			case 1:
				b.WriteString(pick(scriptWords[0]))
			default:
				b.WriteString(pick([]string{" ", "", "  ", "\n", "!", " ,"}))
			}
		}
		add(b.String())
	}

	// Whitespace runs of every kind, leading, inside and trailing.
	spaces := []string{" ", "  ", "   ", "\t", "\t\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000", "\u2003", "\v", "\f", " \t\n", "\r"}
	for range 150 {
		var b strings.Builder
		for n := 1 + rng.IntN(8); n > 0; n-- {
			if rng.IntN(2) == 0 {
				b.WriteString(pick(spaces))
			} else {
				b.WriteString(pick([]string{"word", "x", "if", "{", "}", "Hello", "42", "日本", "é", "'s", "//", "ok."}))
			}
		}
		add(b.String())
	}

	// Digit runs, in ASCII and other scripts, with separators.
	digits := []string{"0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "²³¹", "½¾", "ⅫⅣ"}
	for range 120 {
		var b strings.Builder
		for n := 1 + rng.IntN(5); n > 0; n-- {
			set := []rune(digits[0])
			if rng.IntN(4) == 0 {
				set = []rune(pick(digits))
			}
			for m := 1 + rng.IntN(25); m > 0; m-- {
				b.WriteRune(set[rng.IntN(len(set))])
			}
			b.WriteString(pick([]string{"", " ", ",", ".", "-", "x", "abc", " $", "%", "e+"}))
		}
		add(b.String())
	}

	// Contractions with odd casing and apostrophes in odd places.
	contractions := []string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"}
	for range 120 {
		var b strings.Builder
		for n := 1 + rng.IntN(6); n > 0; n-- {
			word := pick([]string{"I", "you", "WE", "she", "They", "it", "don", "rock", "", " ", "x1", "日本"})
			c := pick(contractions)
			if rng.IntN(2) == 0 {
				c = strings.ToUpper(c)
			} else if rng.IntN(2) == 0 {
				c = "'" + strings.ToUpper(c[1:2]) + c[2:]
			}
			b.WriteString(word + c + pick([]string{" ", "", "'", " '", "''", "s", "\n"}))
		}
		add(b.String())
	}

	// Special token strings inside text, whole and broken.
	for range 120 {
		var b strings.Builder
		for n := 1 + rng.IntN(6); n > 0; n-- {
			sp := pick(specials)
			switch rng.IntN(5) {
			case 0:
				sp = sp[:rng.IntN(len(sp))] // a prefix is just text
			case 1:
				sp = " " + sp + " "
			}
			b.WriteString(sp)
			b.WriteString(pick([]string{"user\nHello", "", " hi", "\n", "x", "assistant\n", "<", "Ça va?", "  "}))
		}
		add(b.String())
	}

	// Random mixtures of all character classes.
	pool := []rune("abcXYZ019 \t\n.,;:'\"!?()[]{}<>/\\-_=+*&^%$#@~`éüßñçøåÆŒ" +
		"αβγδЖжшщ日本語中文한국어ひらがなカタカナ العربية עברית हिन्दीไทย" +
		"\u0301\u0308\u200d\u00a0\u3000😀🎉✓→€£¥©®°±×÷")
	for range 150 {
		var b strings.Builder
		for n := 1 + rng.IntN(40); n > 0; n-- {
			b.WriteRune(pool[rng.IntN(len(pool))])
		}
		add(b.String())
	}
	return texts
}

// scriptWords holds words in several scripts; the first list is English.
var scriptWords = [][]string{
	{"the", "quick", "brown", "fox", "Jumps", "OVER", "lazy", "dog", "tokenizer", "Kubernetes", "GPU", "inference"},
	{"café", "naïve", "über", "Straße", "façade", "crème", "brûlée", "Ærø", "señor", "Œuvre"},
	{"Ελληνικά", "καλημέρα", "κόσμε", "Αθήνα", "ψυχή"},
	{"Привет", "мир", "ёлка", "Съешь", "этих", "мягких", "булок"},
	{"مرحبا", "بالعالم", "العربية", "كتاب", "٢٠٢٤"},
	{"שלום", "עולם", "עברית", "ספר"},
	{"नमस्ते", "दुनिया", "हिन्दी", "भाषा", "क़िताब"},
	{"สวัสดี", "ชาวโลก", "ภาษาไทย"},
	{"你好", "世界", "中文", "分词器", "模型", "推理"},
	{"こんにちは", "世界", "カタカナ", "ひらがな", "東京"},
	{"안녕하세요", "세계", "한국어", "토크나이저"},
	{"Tiếng", "Việt", "người", "đường"},
}

// goSourceSnippets cuts n snippets of 1 to maxLines lines from .go files of
// the Go source tree.
func goSourceSnippets(rng *rand.Rand, n, maxLines int) []string {
	var files []string
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil
	}
	root := filepath.Join(strings.TrimSpace(string(goroot)), "src")
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	var snippets []string
	for attempts := 0; len(snippets) < n && len(files) > 0 && attempts < 4*n; attempts++ {
		data, err := os.ReadFile(files[rng.IntN(len(files))])
		if err != nil {
			continue
		}
		lines := strings.SplitAfter(string(data), "\n")
		from := rng.IntN(len(lines))
		to := min(len(lines), from+1+rng.IntN(maxLines))
		snippets = append(snippets, strings.Join(lines[from:to], ""))
	}
	return snippets
}
