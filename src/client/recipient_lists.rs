//! Recipient lists of finished sends, kept for the next ones.
//!
//! The generated request owns a `String` per recipient. Refilling the strings
//! of a list a finished send gave back, in place, saves an allocation and a
//! free per recipient on every send: the largest part of building a request.

use std::sync::Mutex;

use crate::recipient::MobileNumber;
use crate::sms::MAX_RECIPIENTS_PER_CALL;

/// A request's recipient list, as the generated types hold it.
pub(crate) type RecipientList = Vec<Option<String>>;

/// Lists kept at most: about the sends a client has on their way at once.
const KEPT_LISTS: usize = 16;

/// A small pool of recipient lists; a list is taken for one request and given back after it.
#[derive(Default)]
pub(crate) struct RecipientLists {
    kept: Mutex<Vec<RecipientList>>,
}

impl RecipientLists {
    /// A list holding exactly `numbers`, in order, made from a kept list when there is one.
    pub(crate) fn fill(&self, numbers: &[MobileNumber]) -> RecipientList {
        let mut list = self.kept.lock().ok().and_then(|mut kept| kept.pop()).unwrap_or_default();
        list.truncate(numbers.len());
        for (slot, number) in list.iter_mut().zip(numbers) {
            match slot {
                Some(kept) => {
                    kept.clear();
                    kept.push_str(number.as_str());
                }
                None => *slot = Some(number.as_str().to_owned()),
            }
        }
        let refilled = list.len();
        list.extend(numbers[refilled..].iter().map(|number| Some(number.as_str().to_owned())));
        list
    }

    /// Keeps `list` for a later send, unless enough are kept or it is longer than a send may be.
    pub(crate) fn give_back(&self, list: Option<RecipientList>) {
        let Some(list) = list else { return };
        if list.len() > MAX_RECIPIENTS_PER_CALL {
            return;
        }
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() < KEPT_LISTS {
                kept.push(list);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(count: u32) -> Vec<MobileNumber> {
        (0..count).map(|n| MobileNumber::parse(&format!("0912{n:07}")).expect("a valid number")).collect()
    }

    fn texts(list: &RecipientList) -> Vec<&str> {
        list.iter().map(|item| item.as_deref().unwrap_or("(none)")).collect()
    }

    #[test]
    fn a_shorter_send_after_a_longer_one_holds_only_its_own_numbers() {
        let lists = RecipientLists::default();
        let long = numbers(5);
        lists.give_back(Some(lists.fill(&long)));
        let short = &numbers(2)[..];
        let list = lists.fill(&short[..2]);
        assert_eq!(texts(&list), ["09120000000", "09120000001"]);
    }

    #[test]
    fn a_longer_send_after_a_shorter_one_holds_every_number() {
        let lists = RecipientLists::default();
        lists.give_back(Some(lists.fill(&numbers(2))));
        let list = lists.fill(&numbers(4)[1..]);
        assert_eq!(texts(&list), ["09120000001", "09120000002", "09120000003"]);
    }

    #[test]
    fn a_kept_list_is_refilled_in_place() {
        let lists = RecipientLists::default();
        let first = lists.fill(&numbers(3));
        let buffers: Vec<*const u8> = first.iter().flatten().map(|text| text.as_ptr()).collect();
        lists.give_back(Some(first));
        let second = lists.fill(&numbers(3)[1..]);
        let reused: Vec<*const u8> = second.iter().flatten().map(|text| text.as_ptr()).collect();
        assert_eq!(reused, buffers[..2]);
        assert_eq!(texts(&second), ["09120000001", "09120000002"]);
    }

    #[test]
    fn a_nil_item_in_a_kept_list_is_filled() {
        let lists = RecipientLists::default();
        lists.give_back(Some(vec![None, Some("x".to_owned())]));
        assert_eq!(texts(&lists.fill(&numbers(2))), ["09120000000", "09120000001"]);
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_lists() {
        let lists = RecipientLists::default();
        for _ in 0..KEPT_LISTS + 5 {
            lists.give_back(Some(vec![None]));
        }
        assert_eq!(lists.kept.lock().expect("not poisoned").len(), KEPT_LISTS);
    }

    #[test]
    fn a_list_longer_than_a_send_is_not_kept() {
        let lists = RecipientLists::default();
        lists.give_back(Some(vec![None; MAX_RECIPIENTS_PER_CALL + 1]));
        lists.give_back(Some(vec![None; MAX_RECIPIENTS_PER_CALL]));
        let kept = lists.kept.lock().expect("not poisoned");
        assert_eq!(kept.iter().map(Vec::len).collect::<Vec<_>>(), [MAX_RECIPIENTS_PER_CALL]);
    }
}
