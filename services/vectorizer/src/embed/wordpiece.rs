//! BERT's uncased WordPiece tokenizer, as the all-MiniLM-L6-v2 model was trained with it
//! (`BertTokenizer`, `do_lower_case`): clean the text, split on whitespace and punctuation
//! (and around CJK ideographs), lower-case and strip accents, then split each word into the
//! longest vocabulary pieces, `##`-prefixed after the first; a word with no split is `[UNK]`.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Words longer than this are `[UNK]` (as BERT does).
const MAX_WORD_CHARS: usize = 100;

pub struct WordPiece {
    vocab: HashMap<String, u32>,
    pub cls: u32,
    pub sep: u32,
    pub unk: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum VocabError {
    #[error("the vocabulary lacks the special token {0}")]
    MissingToken(&'static str),
    #[error("the vocabulary is empty")]
    Empty,
}

impl WordPiece {
    /// From `vocab.txt`: one token per line, the line number is its id.
    pub fn from_vocab(text: &str) -> Result<WordPiece, VocabError> {
        let vocab: HashMap<String, u32> = text
            .lines()
            .enumerate()
            .map(|(id, token)| (token.to_string(), id as u32))
            .collect();
        if vocab.is_empty() {
            return Err(VocabError::Empty);
        }
        let special = |token: &'static str| {
            vocab
                .get(token)
                .copied()
                .ok_or(VocabError::MissingToken(token))
        };
        Ok(WordPiece {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
            vocab,
        })
    }

    /// `[CLS] pieces… [SEP]`, at most `max_tokens` ids in all (the text is truncated).
    pub fn encode(&self, text: &str, max_tokens: usize) -> Vec<u32> {
        let budget = max_tokens.saturating_sub(2);
        let mut ids = Vec::with_capacity(budget.min(256) + 2);
        ids.push(self.cls);
        'words: for word in basic_words(text) {
            for id in self.pieces(&word) {
                if ids.len() > budget {
                    break 'words;
                }
                ids.push(id);
            }
        }
        ids.push(self.sep);
        ids
    }

    /// WordPiece ids of one (already basic-tokenized) word.
    fn pieces(&self, word: &str) -> Vec<u32> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        if chars.len() > MAX_WORD_CHARS {
            return vec![self.unk];
        }
        let mut out = Vec::new();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + 2);
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let from = chars[start].0;
                let to = chars.get(end).map_or(word.len(), |(at, _)| *at);
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[from..to]);
                if let Some(id) = self.vocab.get(&candidate) {
                    found = Some(*id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => {
                    out.push(id);
                    start = end;
                }
                None => return vec![self.unk],
            }
        }
        out
    }
}

/// BERT's basic tokenization: words and single punctuation marks, lower-cased, accents
/// stripped.
fn basic_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, words: &mut Vec<String>| {
        if !current.is_empty() {
            words.push(std::mem::take(current));
        }
    };
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut current, &mut words);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut current, &mut words);
            words.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    flush(&mut current, &mut words);
    words
        .into_iter()
        .map(|word| {
            word.to_lowercase()
                .nfd()
                .filter(|c| !is_combining_mark(*c))
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// ASCII symbols count as punctuation for BERT (`$`, `^`, `` ` ``…), as do the Unicode
/// punctuation blocks.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c as u32,
            0x2000..=0x206F | 0x2E00..=0x2E7F | 0x3000..=0x303F | 0xFE30..=0xFE4F
            | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
            | 0x00A1..=0x00BF)
            && !c.is_alphanumeric()
            && !c.is_whitespace()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Unicode combining marks (category Mn) in the blocks that matter after NFD.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> WordPiece {
        let tokens = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cafe", "retry", "##ing", "bill", ",", "!",
            "un", "##want", "##ed", "日",
        ];
        WordPiece::from_vocab(&tokens.join("\n")).expect("vocab")
    }

    #[test]
    fn words_split_into_the_longest_pieces_with_accents_and_case_folded() {
        let wp = vocab();
        // [CLS] the café→cafe , retry ##ing bill ##ing ! un ##want ##ed [UNK] 日 [SEP]
        assert_eq!(
            wp.encode("The Café, retrying BILLING! unwanted xyz日", 64),
            vec![2, 4, 5, 9, 6, 7, 8, 7, 10, 11, 12, 13, 1, 14, 3]
        );
    }

    #[test]
    fn long_texts_are_truncated_to_the_token_budget() {
        let wp = vocab();
        let ids = wp.encode(&"the ".repeat(1000), 16);
        assert_eq!(ids.len(), 16);
        assert_eq!((ids[0], ids[15]), (wp.cls, wp.sep));
    }

    #[test]
    fn a_vocabulary_without_special_tokens_is_refused_by_name() {
        let error = WordPiece::from_vocab("a\nb").err().expect("refused");
        assert_eq!(
            error.to_string(),
            "the vocabulary lacks the special token [CLS]"
        );
    }
}
