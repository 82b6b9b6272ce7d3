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

  @DR-AST-01
  Scenario: Every function's code file exists relative to its stack and its hash matches the file
    When requirement DR-AST-01 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-AST-01
  Scenario Outline: Detects: function code that is missing, machine-bound or not pinned by its hash
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-AST-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                                       |
      | function code points to a missing file                       |
      | source code hash of another build                            |
      | source code hash removed                                     |
      | function code named by an absolute path of the synth machine |

  @DR-AST-02
  Scenario: Building each function's zip again gives the synthesized bytes
    When requirement DR-AST-02 is evaluated
    Then the requirement is met with no finding
    And at least 3 resources were evaluated

  @DR-AST-02
  Scenario Outline: Detects: a function zip that a fresh build does not reproduce
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-AST-02 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                             |
      | function zip built with timestamps |
