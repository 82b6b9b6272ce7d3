Feature: Encryption of data at rest and in transit
  The disaster-recovery design keeps copies of the same data in two regions.
  Each copy must be protected by encryption keys the organisation controls,
  created in the copy's own region, so that losing or revoking one region's
  key never exposes or locks the other region's data, and keys are rotated.

  Background:
    Given the DR stacks as synthesized from this repository

  @DR-ENC-01 @nist:SC-28 @nist:SC-12 @soc2:CC6.1 @iso27001:A.8.24
  Scenario: Every data store uses a rotating customer-managed key of its own region
    When requirement DR-ENC-01 is evaluated
    Then the requirement is met with no finding
    And at least 10 resources were evaluated

  @DR-ENC-01 @nist:SC-28 @nist:SC-12 @soc2:CC6.1 @iso27001:A.8.24
  Scenario Outline: A store that is not protected as required is reported
    Given the change "<change>" is made to a copy of the stacks
    When requirement DR-ENC-01 is evaluated
    Then the requirement fails and names the changed resource

    Examples:
      | change                                       |
      | aurora storage encryption removed            |
      | replica encrypted with another region's key  |
      | topic on an AWS-managed key                  |
      | key rotation off                             |
      | log group without a key                      |
