"""English translations of the planner domain, written into en/LC_MESSAGES/planner.po and compiled to .mo.

Run after ``pybabel extract`` (see planner.cfg):  python webmap/translations/planner_en.py
A msgid missing here is reported and left untranslated (Swedish shows).
"""
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

EN = {
    "Öppet möte": "Open meeting", "Fokusgrupp": "Focus group", "Vandring": "Walk", "Enkät": "Survey",
    "Arbetsboksomgång": "Workbook round", "Initiativ": "Initiative", "Planerad": "Planned", "Pågår": "Ongoing",
    "Genomförd": "Done", "Inställd": "Cancelled", "Slag": "Kind", "Rubrik": "Title", "Beskrivning": "Description",
    "Datum": "Date", "Plats": "Place", "Longitud": "Longitude", "Latitud": "Latitude", "Status": "Status",
    "Kopplade förslag": "Linked proposals",
    "Ange longitud och latitud som tal, eller lämna båda tomma.": "Give longitude and latitude as numbers, or leave both empty.",
    "Kunde inte spara: %(reason)s": "Could not save: %(reason)s", "Aktiviteten är sparad.": "The activity is saved.",
    "Fel användarnamn eller lösenord. Efter flera misslyckade försök i rad måste du vänta en stund.":
        "Wrong username or password. After several failed attempts in a row you must wait a while.",
    "Du är utloggad.": "You are logged out.",
    "Tack. En moderator tittar på förslaget.": "Thank you. A moderator will look at the proposal.",
    "Mottaget": "Received", "Skickat vidare": "Forwarded", "Under behandling": "Under consideration",
    "Planerat": "Planned", "Genomfört": "Done", "Avslaget": "Declined", "Webb": "Web", "Arbetsbok": "Workbook",
    "Telefon": "Phone", "invånare": "resident", "handläggare": "planner", "moderator": "moderator",
    "administratör": "administrator", "systemet": "the system",
    "Inga förslag matchar filtret.": "No proposals match the filter.", "Förslag i %(area)s": "Proposals in %(area)s",
    "antal förslag": "number of proposals", "%(n)s förslag matchar filtret.": "%(n)s proposals match the filter.",
    "Datum anges som ÅÅÅÅ-MM-DD.": "Give dates as YYYY-MM-DD.",
    "Områden och närmaste service är omräknade.": "Areas and nearest services have been recomputed.",
    "Förslaget är skickat till förvaltningen.": "The proposal has been sent to the department.",
    "Statusen är ändrad.": "The status has been changed.", "Svaret är publicerat.": "The answer is published.",
    "Förslaget är dolt för allmänheten.": "The proposal is hidden from the public.",
    "Förslaget visas igen.": "The proposal is shown again.", "Förslaget är registrerat.": "The proposal is registered.",
    "Kontot är skapat.": "The account is created.", "Per utvecklingsområde": "By development area",
    "Per kategori": "By category", "Per kanal": "By channel", "Per status": "By status",
    "Per förvaltning": "By department", "Inkomna förslag per vecka": "Proposals received per week",
    "Förslag och utvecklingsområden": "Proposals and development areas", "Aktivitet": "Activity",
    "Redigera aktivitet": "Edit activity", "Ny aktivitet": "New activity",
    "Plats på kartan (WGS84, frivilligt)": "Place on the map (WGS84, optional)",
    "Förslag som kom fram (offentliga id:n, med mellanslag)": "Proposals it produced (public ids, separated by spaces)",
    "Förslag som besvaras (offentliga id:n)": "Proposals it answers (public ids)", "Spara": "Save",
    "Aktivitetsplan": "Activity plan",
    "Möten, fokusgrupper, vandringar, enkäter, arbetsboksomgångar och initiativ i dialogen. Planen revideras löpande och varje ändring visas.":
        "Meetings, focus groups, walks, surveys, workbook rounds and initiatives in the dialogue. The plan is revised continuously and every change is shown.",
    "Lägg till aktivitet": "Add an activity", "Aktiviteter": "Activities", "Förslag": "Proposals",
    "Inga aktiviteter ännu.": "No activities yet.", "Redigera": "Edit", "kom fram här": "came up here",
    "besvaras här": "answered here", "Inga": "None", "Revisioner": "Revisions", "Revision": "Revision",
    "Översiktskarta": "Overview map", "Handläggare": "Planner",
    "Förslag över utvecklingsområden och service": "Proposals over development areas and services",
    "Filter": "Filter", "Kategori": "Category", "Alla": "All", "Kanal": "Channel",
    "Utvecklingsområde": "Development area", "Förvaltning": "Department", "Från": "From", "Till": "To",
    "Värmekarta": "Heat map", "Rensa filter": "Clear filters", "Teckenförklaring": "Legend",
    "Klicka på ett område för att se dess förslag.": "Click an area to see its proposals.",
    "Förslag som matchar filtret": "Proposals matching the filter", "Områden": "Areas", "Inkom": "Received",
    "Handläggarmeny": "Planner menu", "Registrera förslag": "Enter a proposal", "Rapport": "Report",
    "Moderering": "Moderation", "Konton": "Accounts", "Logga ut": "Log out", "Logga in": "Log in",
    "Logga in för handläggare": "Staff login", "Användarnamn": "Username", "Lösenord": "Password",
    "Dolda och flaggade förslag": "Hidden and flagged proposals", "Dolt": "Hidden", "Skäl": "Reason",
    "Öppna flaggor": "Open flags", "ja": "yes", "nej": "no", "Inget att granska.": "Nothing to review.",
    "Logg": "Log", "Registrera ett förslag åt en invånare": "Enter a proposal on a resident's behalf",
    "För förslag som kommit in på möten, i fokusgrupper, enkäter, arbetsböcker eller per telefon.":
        "For proposals received at meetings, in focus groups, surveys, workbooks or by phone.",
    "Möte eller aktivitet": "Meeting or activity", "Plats (WGS84)": "Position (WGS84)",
    "Invånarens kontaktuppgifter (frivilligt, visas aldrig offentligt)":
        "The resident's contact details (optional, never shown publicly)",
    "Namn": "Name", "E-post": "E-mail",
    "Invånaren har samtyckt till att kontaktuppgifterna sparas": "The resident has agreed to the contact details being stored",
    "Registrera": "Register", "Dolt för allmänheten": "Hidden from the public", "Position": "Position",
    "Stöd": "Support", "Flaggor": "Flags", "Offentlig länk": "Public link",
    "Kontakt (endast för handläggare)": "Contact (staff only)", "Läge": "Location",
    "Utvecklingsområden": "Development areas", "Inget utvecklingsområde": "No development area",
    "Närmaste service per slag": "Nearest service of each kind", "Avstånd": "Distance",
    "Räkna om områden och avstånd": "Recompute areas and distances", "Ansvarig förvaltning": "Responsible department",
    "Föreslagen eller nuvarande": "Proposed or current", "Informeras också": "Also informed",
    "Skicka till": "Send to", "Anteckning": "Note", "Bekräfta och vidarebefordra": "Confirm and forward",
    "Vidarebefordringar": "Forwardings", "Roll": "Role", "Ny status": "New status",
    "Offentlig motivering (krävs vid avslag)": "Public reason (required when declining)",
    "Ändra status": "Change status", "Offentliga svar": "Public answers", "Inget svar ännu.": "No answer yet.",
    "Svar (visas offentligt, utan ditt namn)": "Answer (shown publicly, without your name)",
    "Svarar för": "Answering for", "Publicera svar": "Publish answer", "Visa igen": "Show again",
    "Dölj för allmänheten": "Hide from the public", "Sammanställning": "Summary",
    "Sammanställning av förslag": "Summary of proposals", "Skapad": "Created",
    "Skriv ut / spara som PDF": "Print / save as PDF", "Nyckeltal": "Key figures", "Förslag totalt": "Proposals in total",
    "Besvarade": "Answered", "Dolda": "Hidden", "Utanför utvecklingsområden": "Outside development areas",
    "Mediantid till första svar": "Median time to first answer", "dagar": "days", "Karta": "Map",
    "Utvecklingsområden färgade efter antal förslag; röda punkter är förslag. SWEREF 99 TM.":
        "Development areas shaded by number of proposals; red dots are proposals. SWEREF 99 TM.",
    "Antal": "Counts", "Diagram": "Charts", "Aktivt": "Active", "Senast inloggad": "Last login",
    "Nytt konto": "New account", "Lösenord (minst 10 tecken)": "Password (at least 10 characters)",
    "Skapa konto": "Create account",
    "Klicka på kartan eller skriv in koordinaterna.": "Click the map or type the coordinates.",
    "Väntar på granskning (innehåller en länk)": "Awaiting review (contains a link)",
    "Flaggat av invånare": "Flagged by residents", "Åtgärd": "Action", "Granskad i modereringskön": "Reviewed in the moderation queue",
    "Publicera": "Publish", "Dölj": "Hide",
    "Karta över förslaget, dess områden och närmaste service": "Map of the proposal, its areas and nearest services", "Skickad till": "Sent to",
    "Föreslagen av routingtabellen, inte bekräftad ännu": "Proposed by the routing table, not confirmed yet", "Anmäl olämpligt innehåll": "Report inappropriate content",
    "Vad är olämpligt? (frivilligt)": "What is inappropriate? (optional)", "Anmäl": "Report", "%(n)s dolt förslag": "%(n)s hidden proposal(s)",
    # Accounts page: roles, deactivation and tokens (#9)
    "Rollen är ändrad och kontots inloggningar är avslutade.": "The role is changed and the account's sessions are ended.",
    "Ange om kontot ska vara aktivt (1) eller inaktivt (0).": "Say whether the account is to be active (1) or inactive (0).",
    "Kontot är aktiverat.": "The account is activated.",
    "Kontot är inaktiverat: dess inloggningar och tokens fungerar inte längre.":
        "The account is deactivated: its sessions and tokens no longer work.",
    "Token är återkallad.": "The token is revoked.",
    "En ny roll, ett nytt lösenord och inaktivering avslutar alla kontots inloggningar direkt.":
        "A new role, a new password and deactivation end all the account's sessions at once.",
    "Ändra": "Change", "Roll för %(name)s": "Role for %(name)s", "Byt roll": "Change role",
    "Inaktivera %(name)s": "Deactivate %(name)s", "Aktivera %(name)s": "Activate %(name)s", "API-tokens": "API tokens",
    "Tokens skapas med kommandot dialogkarta create-token. I QGIS: Basic-autentisering med tokens namn som användarnamn och token som lösenord.":
        "Tokens are made with the command dialogkarta create-token. In QGIS: Basic authentication with the token's name "
        "as the username and the token as the password.",
    "Konto": "Account", "Behörighet": "Rights", "Går ut": "Expires", "Senast använd": "Last used",
    "Återkalla": "Revoke", "Återkalla %(name)s": "Revoke %(name)s", "Inga tokens.": "No tokens.",
}

HERE = Path(__file__).resolve().parent


def main() -> None:
    with open(HERE / "planner.pot", "rb") as handle:
        catalog = read_po(handle, locale="en", domain="planner")
    missing = []
    for message in catalog:
        if message.id:
            message.string = EN.get(message.id, "")
            if not message.string:
                missing.append(message.id)
    target = HERE / "en" / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "planner.po", "wb") as handle:
        write_po(handle, catalog, width=100)
    with open(target / "planner.mo", "wb") as handle:
        write_mo(handle, catalog)
    for msgid in missing:
        print(f"untranslated: {msgid!r}")


if __name__ == "__main__":
    main()
