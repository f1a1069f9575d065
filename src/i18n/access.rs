//! Refusals by the allowlists.

use super::{Language, Localized};
use crate::allowlist::Refusal;

display_in_english!(Refusal);

impl Localized for Refusal {
    fn localize(&self, language: Language) -> String {
        use Language::{En, Ru};
        match (self, language) {
            (Refusal::Team, En) => "This workspace is not allowed to use this command. Ask your Slack admin to add it.",
            (Refusal::Team, Ru) => {
                "В этом рабочем пространстве команда недоступна. Попросите администратора Slack добавить его в \
                 список разрешённых."
            }
            (Refusal::User, En) => "You are not allowed to use this command. Ask your Slack admin to add you.",
            (Refusal::User, Ru) => {
                "Вам эта команда недоступна. Попросите администратора Slack добавить вас в список разрешённых."
            }
            (Refusal::Channel, En) => {
                "This command cannot be used in this channel. Try it in a channel your admin has allowed."
            }
            (Refusal::Channel, Ru) => {
                "В этом канале команда недоступна. Воспользуйтесь ею в канале, который разрешил администратор."
            }
        }
        .to_owned()
    }
}

#[cfg(test)]
pub(super) fn samples() -> Vec<Box<dyn Localized>> {
    vec![Box::new(Refusal::Team), Box::new(Refusal::User), Box::new(Refusal::Channel)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log shows `Display`; a user reading English reads the same words.
    #[test]
    fn english_refusals_are_the_refusals_own_words() {
        for refusal in [Refusal::Team, Refusal::User, Refusal::Channel] {
            assert_eq!(refusal.localize(Language::En), refusal.to_string());
        }
    }
}
