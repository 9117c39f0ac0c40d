from . import test_security
from . import test_connect
from . import test_token_lifecycle
from . import test_concurrent_refresh
from . import test_connect_tour
from . import test_sync
