//! The team's settings as the app shows and changes them: business hours and
//! holidays, response targets, support tiers, acknowledgements, auto-close
//! (admins change these; everyone sees them), and one's own working hours.
//! The same rules as the CLI's: the replica refuses a non-admin's change and
//! the relay would refuse it again.

use crate::AppError;
use serde::{Deserialize, Serialize};
use shoal_core::{hhmm, parse_hhmm, Acknowledgement, BusinessHours, Priority, SlaTarget, Team};
use shoal_replica::Replica;
use std::str::FromStr;

/// Working hours as the UI edits them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursView {
    /// IANA time zone.
    pub time_zone: String,
    /// Working days, 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Opening, `HH:MM`.
    pub from: String,
    /// Closing, `HH:MM` (`24:00` for midnight).
    pub to: String,
    /// In words: "Monday to Friday, 09:00–17:00 (Europe/Berlin)".
    #[serde(default)]
    pub description: String,
}

impl HoursView {
    fn of(h: &BusinessHours) -> HoursView {
        HoursView {
            time_zone: h.time_zone.clone(),
            days: h.days.clone(),
            from: hhmm(h.start_minute),
            to: hhmm(h.end_minute),
            description: h.describe(),
        }
    }

    /// These hours over `base` (whose holidays they keep).
    fn apply(&self, base: &BusinessHours) -> Result<BusinessHours, AppError> {
        let hours = BusinessHours {
            time_zone: self.time_zone.trim().to_owned(),
            days: self.days.clone(),
            start_minute: parse_hhmm(&self.from)?,
            end_minute: parse_hhmm(&self.to)?,
            holidays: base.holidays.clone(),
        };
        hours.validate()?;
        Ok(hours)
    }
}

/// A day off.
#[derive(Clone, Debug, Serialize)]
pub struct HolidayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// What the day is.
    pub label: String,
}

/// One priority's response targets, in business minutes.
#[derive(Clone, Debug, Serialize)]
pub struct TargetView {
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: String,
    /// First response.
    pub first_minutes: u32,
    /// Each next response.
    pub next_minutes: u32,
}

/// A support tier and the priority of its customers' new conversations.
#[derive(Clone, Debug, Serialize)]
pub struct TierView {
    /// The tier's name.
    pub tier: String,
    /// The priority it gives.
    pub priority: String,
}

/// The acknowledgement of new conversations at one mailbox.
#[derive(Clone, Debug, Serialize)]
pub struct AcknowledgementView {
    /// The mailbox address.
    pub mailbox: String,
    /// The text, with placeholders.
    pub text: String,
    /// At most one per customer within this many hours.
    pub every_hours: u32,
}

/// `team_settings`: everything the settings view shows.
#[derive(Clone, Debug, Serialize)]
pub struct TeamSettingsView {
    /// Whether I may change the team's settings (an admin).
    pub can_edit: bool,
    /// The team's working hours.
    pub hours: HoursView,
    /// Days off, by date.
    pub holidays: Vec<HolidayView>,
    /// Targets, most urgent first.
    pub targets: Vec<TargetView>,
    /// Support tiers, by name.
    pub tiers: Vec<TierView>,
    /// Acknowledgements, by mailbox.
    pub acknowledgements: Vec<AcknowledgementView>,
    /// The text a new acknowledgement starts from.
    pub default_acknowledgement: String,
    /// Business days of silence before a pending conversation closes.
    pub auto_close_days: Option<u32>,
    /// My own working hours, if I keep any.
    pub my_working_hours: Option<HoursView>,
}

/// `change_team_settings`: one change.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TeamSettingsChange {
    /// The team's working hours (holidays stay).
    Hours {
        /// The new hours.
        hours: HoursView,
    },
    /// Adds or relabels a day off.
    AddHoliday {
        /// `YYYY-MM-DD`.
        date: String,
        /// What the day is.
        label: String,
    },
    /// Removes a day off.
    RemoveHoliday {
        /// `YYYY-MM-DD`.
        date: String,
    },
    /// One priority's targets.
    Target {
        /// The priority.
        priority: String,
        /// First response, business minutes.
        first_minutes: u32,
        /// Each next response, business minutes.
        next_minutes: u32,
    },
    /// Defines a tier or changes its priority.
    SetTier {
        /// The tier.
        tier: String,
        /// The priority it gives.
        priority: String,
    },
    /// Removes a tier.
    RemoveTier {
        /// The tier.
        tier: String,
    },
    /// Turns a mailbox's acknowledgement on (with a text) or off (`None`).
    Acknowledgement {
        /// The mailbox address.
        mailbox: String,
        /// The text; `None` turns it off.
        text: Option<String>,
        /// At most one per customer within this many hours.
        every_hours: u32,
    },
    /// Auto-close after this many business days; `None`: never.
    AutoClose {
        /// Business days (1–365).
        days: Option<u32>,
    },
    /// My own working hours; `None`: none of my own.
    MyWorkingHours {
        /// The hours.
        hours: Option<HoursView>,
    },
}

/// The settings view of `replica`'s team.
pub fn view(replica: &Replica) -> Result<TeamSettingsView, AppError> {
    let team = replica.team()?;
    let me = team.agent(&replica.identity().agent_id);
    Ok(TeamSettingsView {
        can_edit: replica.is_admin()?,
        hours: HoursView::of(&team.business_hours),
        holidays: team
            .business_hours
            .holidays
            .iter()
            .map(|(date, label)| HolidayView {
                date: date.clone(),
                label: label.clone(),
            })
            .collect(),
        targets: targets(&team),
        tiers: team
            .tiers
            .iter()
            .map(|(tier, p)| TierView {
                tier: tier.clone(),
                priority: p.to_string(),
            })
            .collect(),
        acknowledgements: team
            .acknowledgements
            .iter()
            .map(|(mailbox, a)| AcknowledgementView {
                mailbox: mailbox.clone(),
                text: a.text.clone(),
                every_hours: a.every_hours,
            })
            .collect(),
        default_acknowledgement: shoal_core::DEFAULT_ACKNOWLEDGEMENT.to_owned(),
        auto_close_days: team.auto_close_days,
        my_working_hours: me.and_then(|a| a.working_hours.as_ref()).map(HoursView::of),
    })
}

fn targets(team: &Team) -> Vec<TargetView> {
    Priority::ALL
        .iter()
        .rev()
        .filter_map(|p| {
            team.sla.get(p).map(|t| TargetView {
                priority: p.to_string(),
                first_minutes: t.first_response_minutes,
                next_minutes: t.next_response_minutes,
            })
        })
        .collect()
}

fn priority(s: &str) -> Result<Priority, AppError> {
    Priority::from_str(s).map_err(|e| AppError::invalid(e.to_string()))
}

/// Makes `change` in `replica`.
pub fn apply(replica: &mut Replica, change: TeamSettingsChange) -> Result<(), AppError> {
    match change {
        TeamSettingsChange::Hours { hours } => {
            let base = replica.team()?.business_hours;
            replica.set_business_hours(&hours.apply(&base)?)?;
        }
        TeamSettingsChange::AddHoliday { date, label } => {
            replica.add_holiday(date.trim(), &label)?;
        }
        TeamSettingsChange::RemoveHoliday { date } => {
            if !replica.remove_holiday(date.trim())? {
                return Err(AppError::invalid(format!("{date} is not a day off")));
            }
        }
        TeamSettingsChange::Target {
            priority: p,
            first_minutes,
            next_minutes,
        } => {
            if first_minutes == 0 || next_minutes == 0 {
                return Err(AppError::invalid(
                    "a response target is at least one minute",
                ));
            }
            replica.set_sla(
                priority(&p)?,
                SlaTarget {
                    first_response_minutes: first_minutes,
                    next_response_minutes: next_minutes,
                },
            )?;
        }
        TeamSettingsChange::SetTier { tier, priority: p } => {
            replica.set_tier(&tier, priority(&p)?)?;
        }
        TeamSettingsChange::RemoveTier { tier } => {
            if !replica.remove_tier(&tier)? {
                return Err(AppError::invalid(format!("there is no tier `{tier}`")));
            }
        }
        TeamSettingsChange::Acknowledgement {
            mailbox,
            text,
            every_hours,
        } => {
            if every_hours == 0 {
                return Err(AppError::invalid(
                    "acknowledge a customer at most once every 1 hour or more",
                ));
            }
            let ack = text.map(|text| Acknowledgement { text, every_hours });
            replica.set_acknowledgement(mailbox.trim(), ack.as_ref())?;
        }
        TeamSettingsChange::AutoClose { days } => replica.set_auto_close(days)?,
        TeamSettingsChange::MyWorkingHours { hours } => {
            let hours = hours
                .map(|h| h.apply(&BusinessHours::default()))
                .transpose()?
                .map(|mut h| {
                    h.holidays.clear();
                    h
                });
            replica.set_my_working_hours(hours.as_ref())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_from_the_ui_are_checked_and_keep_the_holidays() {
        let mut base = BusinessHours::default();
        base.holidays
            .insert("2026-12-25".into(), "Christmas".into());
        let ui = HoursView {
            time_zone: " Europe/Berlin ".into(),
            days: vec![1, 2, 3],
            from: "08:30".into(),
            to: "24:00".into(),
            description: String::new(),
        };
        let h = ui.apply(&base).unwrap();
        assert_eq!((h.start_minute, h.end_minute), (510, 1440));
        assert_eq!(h.time_zone, "Europe/Berlin");
        assert_eq!(h.holidays.len(), 1);
        let backwards = HoursView {
            from: "18:00".into(),
            to: "09:00".into(),
            ..ui.clone()
        };
        assert!(backwards.apply(&base).is_err());
        let nowhere = HoursView {
            time_zone: "Mars/Olympus".into(),
            ..ui.clone()
        };
        assert!(nowhere.apply(&base).is_err());
        let no_time = HoursView {
            from: "9".into(),
            ..ui
        };
        assert!(no_time.apply(&base).is_err());
    }
}
