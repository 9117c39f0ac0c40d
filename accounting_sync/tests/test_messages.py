"""What the providers say reaches the user in the user's language: the provider layer answers
with a code and its parameters, the Odoo side translates the code's sentence through this
addon's catalogue and fills it in."""
from pathlib import Path
from unittest.mock import patch

import polib

from odoo.tests import tagged
from odoo.tools.translate import code_translations

from ..providers.messages import MESSAGES, NOUNS
from .common import QuickBooksOnlineSetup, SyncCase

POT = Path(__file__).parents[1] / "i18n" / "accounting_sync.pot"


@tagged("post_install", "-at_install")
class TestProviderMessages(QuickBooksOnlineSetup, SyncCase):

    def test_every_provider_sentence_is_in_the_catalogue(self):
        msgids = {entry.msgid for entry in polib.pofile(str(POT))}
        missing = [text for text in [*MESSAGES.values(), *NOUNS] if text not in msgids]
        self.assertFalse(missing, "not in %s: regenerate it" % POT.name)

    def test_a_refusal_reads_in_the_users_language(self):
        """A name clash, synced by a French-speaking accountant: the stored message is the
        French sentence of its code, with the provider's values and the noun in French."""
        self.env["res.lang"]._activate_lang("fr_FR")
        french = {
            MESSAGES["name_in_use"]: "%(provider)s a déjà un %(noun)s « %(name)s » "
                                     "(e-mail %(theirs)s ; Odoo : %(ours)s).",
            "customer": "client",
        }
        self.seed_customer("Azure Interior", "someone-else@example.com")
        self.invoice()
        loaded = dict(code_translations.python_translations)
        loaded[("accounting_sync", "fr_FR")] = french
        with patch.object(code_translations, "python_translations", loaded):
            self.connection.with_context(lang="fr_FR")._sync(trigger="button")
        binding = self.binding(self.customer)
        self.assertEqual(binding.state, "failed")
        self.assertEqual(binding.last_error,
                         "QuickBooks Online a déjà un client « Azure Interior » (e-mail "
                         "someone-else@example.com ; Odoo : azure@example.com).")
        self.assertEqual(binding.error_kind, "clash", "grouped by its code, not its words")
