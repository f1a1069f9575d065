//! Who may use the command: optional allowlists of Slack team, user and
//! channel ids. An empty list lets everyone through.

/// Which list refused a command. `Display` is the reply in English, from
/// the catalogue (`i18n::access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Team,
    User,
    Channel,
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// A short stable name for logs.
    pub fn kind(self) -> &'static str {
        match self {
            Refusal::Team => "team_not_allowed",
            Refusal::User => "user_not_allowed",
            Refusal::Channel => "channel_not_allowed",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    teams: Vec<String>,
    users: Vec<String>,
    channels: Vec<String>,
}

impl Allowlist {
    pub fn new(teams: Vec<String>, users: Vec<String>, channels: Vec<String>) -> Self {
        Self { teams, users, channels }
    }

    pub fn is_open(&self) -> bool {
        self.teams.is_empty() && self.users.is_empty() && self.channels.is_empty()
    }

    pub fn check(&self, team_id: &str, user_id: &str, channel_id: &str) -> Result<(), Refusal> {
        let allows = |list: &[String], id: &str| list.is_empty() || list.iter().any(|a| a == id);
        if !allows(&self.teams, team_id) {
            return Err(Refusal::Team);
        }
        if !allows(&self.users, user_id) {
            return Err(Refusal::User);
        }
        if !allows(&self.channels, channel_id) {
            return Err(Refusal::Channel);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_allow_everyone_and_each_list_is_checked() {
        let open = Allowlist::default();
        assert_eq!(open.check("T", "U", "C"), Ok(()));
        let list = Allowlist::new(vec!["T1".into()], vec!["U1".into(), "U2".into()], vec![]);
        assert_eq!(list.check("T1", "U2", "anything"), Ok(()));
        assert_eq!(list.check("T2", "U1", "C"), Err(Refusal::Team));
        assert_eq!(list.check("T1", "U3", "C"), Err(Refusal::User));
        let channels = Allowlist::new(vec![], vec![], vec!["C1".into()]);
        assert_eq!(channels.check("T", "U", "C2"), Err(Refusal::Channel));
        assert_eq!(channels.check("T", "U", ""), Err(Refusal::Channel));
    }
}
