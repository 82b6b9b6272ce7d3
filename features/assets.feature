Feature: The code the functions run is present, pinned and reproducible
  The failover and health-check functions are part of the recovery itself:
  the health check decides when to fail over and the failover function
  promotes the secondary database. Their code must be deployable from
  wherever the stacks are deployed (not only from the machine that ran
  synth), pinned by a hash to the exact bytes that were reviewed, and built
  reproducibly, so that rebuilding a region months later deploys the same
  code.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-AST-01 @nist:SI-7 @nist:SA-10 @soc2:CC8.1 @iso27001:A.8.32 @iso27001:A.8.25
  Scenario: Every function's code file exists relative to its stack and its hash matches the file
    When requirement DR-AST-01 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-AST-01 @nist:SI-7 @nist:SA-10 @soc2:CC8.1 @iso27001:A.8.32 @iso27001:A.8.25
  Scenario Outline: Function code that is missing, machine-bound or not pinned by its hash is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-AST-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                       |
      | function code points to a missing file                       |
      | source code hash of another build                            |
      | source code hash removed                                     |
      | function code named by an absolute path of the synth machine |

  @DR-AST-02 @nist:SI-7 @nist:SA-10 @soc2:CC8.1 @iso27001:A.8.32 @iso27001:A.8.25
  Scenario: Building each function's zip again gives the synthesized bytes
    When requirement DR-AST-02 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-AST-02 @nist:SI-7 @nist:SA-10 @soc2:CC8.1 @iso27001:A.8.32 @iso27001:A.8.25
  Scenario Outline: A function zip that a fresh build does not reproduce is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-AST-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                             |
      | function zip built with timestamps |
